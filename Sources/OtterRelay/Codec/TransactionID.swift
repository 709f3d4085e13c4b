import NIOCore

/// The 96-bit transaction id, kept as integers so it hashes and compares
/// without touching the heap.
public struct TransactionID: Hashable, Sendable, CustomStringConvertible {
    public var a: UInt32
    public var b: UInt32
    public var c: UInt32

    public init(a: UInt32, b: UInt32, c: UInt32) {
        self.a = a; self.b = b; self.c = c
    }

    public static func random() -> TransactionID {
        var g = SystemRandomNumberGenerator()
        return TransactionID(a: g.next(), b: g.next(), c: g.next())
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 12)
        func word(_ i: Int) -> UInt32 {
            UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
        }
        self.init(a: word(0), b: word(4), c: word(8))
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(12)
        for w in [a, b, c] {
            out.append(UInt8(w >> 24)); out.append(UInt8((w >> 16) & 0xFF))
            out.append(UInt8((w >> 8) & 0xFF)); out.append(UInt8(w & 0xFF))
        }
        return out
    }

    public var description: String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
