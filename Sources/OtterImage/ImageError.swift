/// Errors from building or writing an image, with a message a user can act on.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A file is not a 64-bit little-endian ELF object, or its tables are out of bounds.
        case badELF = "bad-elf"
        /// A shared library the binary needs was found in none of the search directories.
        case libraryNotFound = "library-not-found"
        /// `otter-relay`, the relay-only binary the image runs, is not beside `otter`.
        case missingRelayBinary = "missing-relay-binary"
        /// A path does not fit a tar header, or a file is too large.
        case badEntry = "bad-entry"
        case io = "io"
        case compression = "compression"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
