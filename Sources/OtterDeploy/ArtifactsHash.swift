import Crypto

/// Content-hash names for uploaded artifacts.
enum ArtifactsHash {
    /// First 16 hex digits of SHA-256.
    static func hex(_ bytes: [UInt8]) -> String {
        String(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined().prefix(16))
    }
}
