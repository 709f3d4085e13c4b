import NIOCore
import NIOSSL

/// coturn answers TLS on its plain TCP listening port as well as on the TLS
/// port (clients configured with `turns:host:3478` work against it), so when
/// TLS is configured the plain port looks at the first two bytes of each
/// connection: a TLS handshake record (0x16 0x03) gets a TLS handler in front
/// of the TURN framer, anything else goes to the framer as it is. The handler
/// removes itself after that decision, so relayed packets never pass it.
final class TLSSniffingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let tls: NIOSSLContext
    private var buffered: ByteBuffer?
    private var decided = false

    init(tls: NIOSSLContext) { self.tls = tls }

    /// TLS records start with content type 22 (handshake) and major version 3.
    /// A STUN message starting with these bytes would be type 0x1603, which is
    /// no method TURN defines, and ChannelData starts with 0x40-0x7F.
    static func looksLikeTLS(_ b: ByteBuffer) -> Bool? {
        guard let first = b.getInteger(at: b.readerIndex, as: UInt8.self) else { return nil }
        if first != 0x16 { return false }
        guard let second = b.getInteger(at: b.readerIndex + 1, as: UInt8.self) else { return nil }
        return second == 0x03
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if decided {
            // Bytes that raced with our removal: pass them on unchanged.
            context.fireChannelRead(wrapInboundOut(incoming))
            return
        }
        var bytes: ByteBuffer
        if var b = buffered {
            b.writeBuffer(&incoming)
            bytes = b
        } else {
            bytes = incoming
        }
        guard let isTLS = Self.looksLikeTLS(bytes) else {
            buffered = bytes
            return
        }
        decided = true
        buffered = nil
        if isTLS {
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
            } catch {
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
