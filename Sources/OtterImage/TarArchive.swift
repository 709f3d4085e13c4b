import Foundation

/// One file system entry of a layer. Paths are relative ("etc/passwd"), without a leading slash.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case directory
        case file(Data)
        case symlink(target: String)
    }

    public var path: String
    public var mode: UInt32
    public var kind: Kind

    public init(path: String, mode: UInt32, kind: Kind) {
        self.path = path
        self.mode = mode
        self.kind = kind
    }

    public static func directory(_ path: String, mode: UInt32 = 0o755) -> TarEntry { .init(path: path, mode: mode, kind: .directory) }
    public static func file(_ path: String, _ data: Data, mode: UInt32 = 0o644) -> TarEntry { .init(path: path, mode: mode, kind: .file(data)) }
    public static func symlink(_ path: String, to target: String) -> TarEntry { .init(path: path, mode: 0o777, kind: .symlink(target: target)) }
}

/// A POSIX (ustar, with pax headers for long names) tar stream written by hand, reproducibly:
/// entries sorted by path, owner 0:0 with no names, one fixed mtime, no device or access times.
/// Directories every entry needs are added, so a runtime never creates them with its own modes.
public enum TarArchive {
    /// 2000-01-01T00:00:00Z: not 0, because some tools read a zero mtime as "missing".
    public static let fixedModificationTime: Int = 946_684_800

    public static func write(_ entries: [TarEntry]) throws -> Data {
        var byPath: [String: TarEntry] = [:]
        for var e in entries {
            e.path = try normalize(e.path)
            for dir in parents(of: e.path) where byPath[dir] == nil { byPath[dir] = .directory(dir) }
            byPath[e.path] = e
        }
        var out = Data()
        for path in byPath.keys.sorted() {
            try append(byPath[path]!, to: &out)
        }
        out.append(Data(count: 1024))
        return out
    }

    static func normalize(_ path: String) throws -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else {
            throw ImageError(.badEntry, "'\(path)' is not a path inside the image")
        }
        return parts.joined(separator: "/")
    }

    static func parents(of path: String) -> [String] {
        let parts = path.split(separator: "/")
        return (1..<max(parts.count, 1)).map { parts[0..<$0].joined(separator: "/") }
    }

    static func append(_ e: TarEntry, to out: inout Data) throws {
        var name = e.path
        var typeflag: UInt8
        var body = Data()
        var linkname = ""
        switch e.kind {
        case .directory:
            name += "/"
            typeflag = UInt8(ascii: "5")
        case .file(let data):
            typeflag = UInt8(ascii: "0")
            body = data
        case .symlink(let target):
            typeflag = UInt8(ascii: "2")
            linkname = target
        }
        var pax: [(String, String)] = []
        let split = splitUstarName(name)
        if split == nil { pax.append(("path", name)) }
        if linkname.utf8.count > 100 { pax.append(("linkpath", linkname)) }
        if !pax.isEmpty {
            let records = Data(pax.map(paxRecord).joined().utf8)
            let base = name.split(separator: "/").last.map(String.init) ?? "x"
            let paxName = "PaxHeaders/" + String(decoding: base.utf8.prefix(80), as: UTF8.self)
            out.append(try header(name: paxName, prefix: "", mode: 0o644, size: records.count, typeflag: UInt8(ascii: "x"), linkname: ""))
            out.append(records)
            out.append(Data(count: padding(records.count)))
        }
        let (prefix, short) = split ?? ("", String(decoding: name.utf8.suffix(100), as: UTF8.self))
        out.append(try header(name: short, prefix: prefix, mode: e.mode, size: body.count, typeflag: typeflag,
                              linkname: String(decoding: linkname.utf8.prefix(100), as: UTF8.self)))
        out.append(body)
        out.append(Data(count: padding(body.count)))
    }

    /// ustar keeps names up to 100 bytes, or a prefix of up to 155 bytes split at a slash.
    static func splitUstarName(_ name: String) -> (prefix: String, name: String)? {
        let bytes = Array(name.utf8)
        if bytes.count <= 100 { return ("", name) }
        // The last slash that leaves a name of at most 100 bytes and a prefix of at most 155.
        for i in stride(from: min(bytes.count - 1, 155), through: 1, by: -1) where bytes[i] == UInt8(ascii: "/") {
            if bytes.count - i - 1 <= 100, bytes.count - i - 1 > 0 {
                return (String(decoding: bytes[..<i], as: UTF8.self), String(decoding: bytes[(i + 1)...], as: UTF8.self))
            }
        }
        return nil
    }

    /// "<length> <key>=<value>\n", the length counting itself.
    static func paxRecord(_ kv: (String, String)) -> String {
        let rest = " \(kv.0)=\(kv.1)\n"
        var length = rest.utf8.count + 1
        while String(length).count + rest.utf8.count != length { length += 1 }
        return "\(length)\(rest)"
    }

    static func padding(_ n: Int) -> Int { (512 - n % 512) % 512 }

    static func header(name: String, prefix: String, mode: UInt32, size: Int, typeflag: UInt8, linkname: String) throws -> Data {
        guard size < 0o77777777777 else { throw ImageError(.badEntry, "\(name) is larger than 8 GiB, which ustar cannot hold") }
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, at offset: Int, width: Int) {
            for (i, b) in s.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int, at offset: Int, width: Int) {
            let digits = String(v, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int(mode & 0o7777), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(fixedModificationTime, at: 136, width: 12)
        h[156] = typeflag
        put(linkname, at: 157, width: 100)
        put("ustar\0", at: 257, width: 6)
        put("00", at: 263, width: 2)
        octal(0, at: 329, width: 8)
        octal(0, at: 337, width: 8)
        put(prefix, at: 345, width: 155)
        // The checksum is computed with its own field as eight spaces.
        for i in 148..<156 { h[i] = UInt8(ascii: " ") }
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, width: 7)
        h[154] = 0
        h[155] = UInt8(ascii: " ")
        return Data(h)
    }
}
