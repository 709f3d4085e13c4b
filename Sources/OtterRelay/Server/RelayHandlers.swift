import NIOCore
import NIOSSL

extension RelayEngine {
    /// Receive buffer per datagram. Browsers and turnutils stay far below it;
    /// a larger datagram is truncated by the kernel and then fails to parse.
    static let datagramBufferSize = 4096
    /// Datagrams one recvmmsg on a UDP listener may return. NIO's epoll is
    /// level-triggered, so with one read per wakeup (maxMessagesPerRead 1)
    /// a paced stream costs one receive call per datagram instead of a
    /// second one that only says EAGAIN, and a burst of up to this many
    /// datagrams from all clients still costs one call.
    static let listenerVectorReadCount = 16
}

/// A UDP listener (3478): STUN and ChannelData from clients.
final class UDPListenerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let engine: RelayEngine
    let index: Int
    private var listener: UDPListener?

    init(engine: RelayEngine, index: Int) {
        self.engine = engine
        self.index = index
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let l = UDPListener(channel: context.channel)
        if context.channel.isActive { l.fd = RawDatagram.descriptor(of: context.channel) }
        listener = l
    }

    func channelActive(context: ChannelHandlerContext) {
        let fd = RawDatagram.descriptor(of: context.channel)
        engine.lock.withLock { listener?.fd = fd }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The descriptor is about to be closed and its number may be reused.
        engine.lock.withLock { listener?.fd = -1 }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let listener else { return }
        let env = unwrapInboundIn(data)
        engine.lock.withLock {
            engine.clientDatagram(listener: listener, index: index, remote: env.remoteAddress, data: env.data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        engine.lock.withLock { engine.flushDirty() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable and the like surface here; a listener must keep going.
        engine.logger.debug("udp listener error", metadata: ["error": "\(error)"])
    }
}

/// A TCP or TLS client connection: cuts the byte stream into frames with
/// TURNStreamFramer.nextFrame itself rather than behind a
/// ByteToMessageHandler, because a custom type between two handlers costs a
/// NIOAny box and a dynamic cast per frame. On Linux a plain-TCP connection
/// is handed to the UDP pump after its first read (see StreamWriter); TLS
/// connections stay here.
final class StreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let engine: RelayEngine
    /// Closes the connection while it holds no allocation (see watchAllocation).
    private var watchdog: RepeatedTask?
    /// The start of a frame whose rest has not arrived (at most one frame:
    /// 65,555 bytes, lengths being 16-bit).
    private var partial: ByteBuffer?
    /// Writes to a plain-TCP client without NIO (see StreamWriter); chosen
    /// at the first read, once TLS sniffing has put a TLS handler in front
    /// of this one or not.
    private var writer: StreamWriter?
    private var linkChosen = false
    /// The UDP pump reads the connection now and NIO's channel is closing:
    /// channelInactive must not end the connection (see StreamWriter).
    private var handedOver = false

    init(engine: RelayEngine) { self.engine = engine }

    func channelActive(context: ChannelHandlerContext) {
        watchAllocation(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { watchAllocation(context: context) }
    }

    /// coturn's allocation watchdog: every max-allocate-timeout seconds a
    /// connection without an allocation (never made one, or it was deleted or
    /// expired) is closed, so idle or half-open TCP/TLS connections — also
    /// ones that never finish the TLS handshake — cannot pile up.
    private func watchAllocation(context: ChannelHandlerContext) {
        guard watchdog == nil else { return }
        let engine = self.engine
        let channel = context.channel
        let every = TimeAmount.seconds(Int64(engine.config.maxAllocateTimeout))
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { task in
            guard !engine.lock.withLock({ engine.hasAllocation(streamChannel: channel) }) else { return }
            engine.logger.debug("closing connection without allocation", metadata: ["remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
            task.cancel()
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if !linkChosen {
            linkChosen = true
            let tls = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil
            writer = engine.makeStreamWriter(channel: context.channel, tls: tls)
        }
        if partial != nil {
            var p = partial!
            partial = nil  // p is now the only reference: appending does not copy it again
            p.writeBuffer(&buffer)
            buffer = p
        }
        let channel = context.channel
        let writer = self.writer
        let framed: Bool = engine.lock.withLock {
            do {
                while let frame = try TURNStreamFramer.nextFrame(&buffer) { engine.streamFrame(frame, channel: channel, writer: writer) }
                return true
            } catch {
                return false
            }
        }
        guard framed else {
            errorCaught(context: context, error: TURNFramingError())
            return
        }
        if let writer, !handedOver, engine.lock.withLock({ engine.adoptStream(writer, leftover: buffer) }) {
            // Closing NIO's channel closes only NIO's descriptor; the writer's keeps the connection open.
            handedOver = true
            partial = nil
            watchdog?.cancel()
            watchdog = nil
            context.close(promise: nil)
            return
        }
        // Keep only the unfinished frame's bytes, not the whole read buffer.
        if buffer.readableBytes > 0 {
            var p = context.channel.allocator.buffer(capacity: buffer.readableBytes)
            p.writeBuffer(&buffer)
            partial = p
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        engine.lock.withLock { engine.flushDirty() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        watchdog?.cancel()
        watchdog = nil
        if !handedOver { engine.lock.withLock { engine.streamClosed(context.channel, writer: writer) } }
        writer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        watchdog = nil
        // Normally done by channelInactive; this covers a handler removed from a live pipeline.
        if let w = writer, !handedOver {
            writer = nil
            engine.lock.withLock { engine.streamClosed(context.channel, writer: w) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        engine.logger.debug("stream client error, closing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// A relay socket: datagrams from peers for one allocation.
final class RelayPeerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let engine: RelayEngine
    let box: AllocationBox
    var wrote = false

    init(engine: RelayEngine, box: AllocationBox) {
        self.engine = engine
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        guard let peer = STUNAddress(env.remoteAddress) else { return }
        engine.lock.withLock {
            guard let a = box.allocation else { return }
            let queued = env.data.withUnsafeReadableBytes { engine.peerDatagram(a, from: peer, bytes: $0, buffer: env.data) }
            if queued { wrote = true }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        engine.lock.withLock {
            if wrote, let a = box.allocation, !a.closed {
                a.link.flush()
                if case .udp(let l, _) = a.link { l.queued = false }
            }
            wrote = false
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Direct sends must stop before NIO closes the descriptor.
        engine.lock.withLock { box.allocation?.relayFD = -1 }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        engine.logger.debug("relay socket error", metadata: ["error": "\(error)"])
    }
}
