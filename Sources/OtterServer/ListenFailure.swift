import Foundation
import NIOCore

/// Why the server could not open its port, from the error NIO's bind throws,
/// so the CLI can name the port and the flag instead of `bind(descriptor:…)`.
public enum ListenFailure {
    /// The errno of a failed bind (address in use, not allowed, not on this
    /// machine), or nil for any other error.
    public static func bindErrno(_ error: any Error) -> Int32? {
        guard let io = error as? IOError, [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(io.errnoCode) else { return nil }
        return io.errnoCode
    }
}
