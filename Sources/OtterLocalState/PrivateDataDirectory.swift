import Foundation

/// The data directory holds the signing and TURN secrets (in SQLite and its
/// -wal/-shm files, which SQLite creates with the process umask) and the API
/// key: other local users must not read any of it. `otter up` sets umask 077
/// for everything it creates and this fixes what was already there.
public enum PrivateDataDirectory {
    public struct NotPrivate: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String {
            "\(path) is readable by other users and could not be made private (\(reason)). "
                + "It holds the signing and TURN secrets: run `chmod -R go-rwx \(path)` as its owner, or pass another --data-dir."
        }
    }

    /// Creates `path` (0700) or makes it and everything under it private:
    /// directories 0700, files 0600. Symbolic links are not followed.
    /// - Returns: how many entries had to be changed (0 when all was private).
    @discardableResult
    public static func secure(_ path: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var changed = 0
        try fix(path, isDirectory: true, changed: &changed)
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let name = enumerator?.nextObject() as? String {
            let full = (path as NSString).appendingPathComponent(name)
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }  // gone meanwhile
            switch st.st_mode & 0o170000 {  // S_IFMT
            case 0o040000: try fix(full, isDirectory: true, changed: &changed)  // S_IFDIR
            case 0o100000: try fix(full, isDirectory: false, changed: &changed)  // S_IFREG
            default: continue  // links and sockets: chmod would follow or mean nothing
            }
        }
        return changed
    }

    private static func fix(_ path: String, isDirectory: Bool, changed: inout Int) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw NotPrivate(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = st.st_mode & 0o777
        let wanted: mode_t = isDirectory ? 0o700 : 0o600
        guard mode != wanted else { return }
        guard chmod(path, wanted) == 0 else {
            throw NotPrivate(path: path, reason: String(cString: strerror(errno)))
        }
        changed += 1
    }
}
