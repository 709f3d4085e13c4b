import Foundation

/// The files the dynamic loader maps to start a binary: the binary's interpreter and the
/// transitive DT_NEEDED closure, searched as glibc's ld.so does (DT_RPATH when there is no
/// DT_RUNPATH, then DT_RUNPATH, then the ld.so.conf directories and the system directories).
/// Each object gets the path the loader inside the image will look for it at.
public struct DependencyClosure: Sendable {
    public struct Object: Sendable, Equatable {
        /// Where the file is read from on this machine.
        public let hostPath: String
        /// Where it goes in the image, absolute.
        public let imagePath: String
        /// Set when the same file is already in the image at another path: a symlink to it.
        public let sameAs: String?
    }

    /// glibc's built-in search directories on x86_64 Debian/Ubuntu (multiarch) and others.
    public static let systemDirectories = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]

    /// Where libraries found only through ld.so.conf go in the image: the image has no
    /// ld.so.cache, so they must sit in a directory the loader searches by itself.
    public static let imageLibraryDirectory = "/usr/lib/x86_64-linux-gnu"

    public var systemDirectories: [String]
    public var configuredDirectories: [String]

    public init(systemDirectories: [String] = DependencyClosure.systemDirectories,
                configuredDirectories: [String] = DependencyClosure.ldSoConfDirectories()) {
        self.systemDirectories = systemDirectories
        self.configuredDirectories = configuredDirectories
    }

    /// The binary itself is not in the result; its interpreter and libraries are, in discovery order.
    public func resolve(binary: String, imagePath binaryImagePath: String) throws -> [Object] {
        let root = try ELFFile(bytes: read(binary))
        guard root.machine == ELFFile.x86_64 else {
            throw ImageError(.badELF, "\(binary) is built for ELF machine \(root.machine), not x86-64 (linux/amd64)")
        }
        var result: [Object] = []
        var imagePaths: Set<String> = []
        var byRealPath: [String: String] = [:]
        func add(host: String, image: String) -> Bool {
            guard imagePaths.insert(image).inserted else { return false }
            let real = URL(fileURLWithPath: host).resolvingSymlinksInPath().path
            if let first = byRealPath[real] {
                result.append(Object(hostPath: host, imagePath: image, sameAs: first))
                return false
            }
            byRealPath[real] = image
            result.append(Object(hostPath: host, imagePath: image, sameAs: nil))
            return true
        }
        if let interp = root.interpreter {
            guard FileManager.default.fileExists(atPath: interp) else {
                throw ImageError(.libraryNotFound, "\(binary) names the interpreter \(interp), which does not exist here")
            }
            _ = add(host: interp, image: interp)
        }
        // Breadth-first, as the loader does; each object searches with its own run paths.
        var queue: [(elf: ELFFile, host: String, image: String, rpathChain: [(String, String)])] = [(root, binary, binaryImagePath, [])]
        var index = 0
        while index < queue.count {
            let (elf, host, image, inheritedRpath) = queue[index]
            index += 1
            // DT_RPATH applies to the object and everything it loads, unless the object has DT_RUNPATH.
            let ownRpath = elf.rpath.map { ($0, host) }
            let rpathChain = elf.runpath.isEmpty ? ownRpath + inheritedRpath : []
            for name in elf.needed {
                guard let found = try locate(name, needer: host, neederImage: image, rpath: rpathChain,
                                             runpath: elf.runpath, queueImages: queue.map { ($0.host, $0.image) }) else {
                    throw ImageError(.libraryNotFound, "\(host) needs \(name), found in none of: \(searchList(rpathChain, elf.runpath, host))")
                }
                if add(host: found.host, image: found.image) {
                    let lib = try ELFFile(bytes: read(found.host))
                    queue.append((lib, found.host, found.image, elf.runpath.isEmpty ? rpathChain : []))
                }
            }
        }
        return result
    }

    func locate(_ name: String, needer: String, neederImage: String, rpath: [(String, String)], runpath: [String],
                queueImages: [(String, String)]) throws -> (host: String, image: String)? {
        if name.contains("/") {
            return FileManager.default.fileExists(atPath: name) ? (name, name) : nil
        }
        for (dir, owner) in rpath {
            let ownerImage = queueImages.first(where: { $0.0 == owner })?.1 ?? neederImage
            if let hit = probe(dir, name, originHost: owner, originImage: ownerImage) { return hit }
        }
        for dir in runpath {
            if let hit = probe(dir, name, originHost: needer, originImage: neederImage) { return hit }
        }
        for dir in configuredDirectories where !systemDirectories.contains(dir) {
            let path = dir + "/" + name
            if isFile(path) { return (path, Self.imageLibraryDirectory + "/" + name) }
        }
        for dir in systemDirectories {
            let path = dir + "/" + name
            if isFile(path) { return (path, path) }
        }
        return nil
    }

    /// A run path entry, with $ORIGIN (and ${ORIGIN}) standing for the directory of the object
    /// that names it: on this machine to find the file, in the image to place it.
    func probe(_ dir: String, _ name: String, originHost: String, originImage: String) -> (host: String, image: String)? {
        func expand(_ origin: String) -> String {
            let o = (origin as NSString).deletingLastPathComponent
            return dir.replacingOccurrences(of: "${ORIGIN}", with: o).replacingOccurrences(of: "$ORIGIN", with: o)
        }
        let host = expand(originHost) + "/" + name
        guard isFile(host) else { return nil }
        return (standardize(host), standardize(expand(originImage) + "/" + name))
    }

    func standardize(_ path: String) -> String { (path as NSString).standardizingPath }

    func isFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    func searchList(_ rpath: [(String, String)], _ runpath: [String], _ host: String) -> String {
        (rpath.map(\.0) + runpath + configuredDirectories + systemDirectories).joined(separator: ", ")
    }

    func read(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImageError(.io, "cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// The directories /etc/ld.so.conf lists, following `include` globs (one level of `*`).
    public static func ldSoConfDirectories(path: String = "/etc/ld.so.conf") -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var dirs: [String] = []
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            if line.hasPrefix("include ") {
                let pattern = line.dropFirst("include ".count).trimmingCharacters(in: .whitespaces)
                let dir = (pattern as NSString).deletingLastPathComponent
                let glob = (pattern as NSString).lastPathComponent
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                for n in names where matches(n, glob) {
                    dirs += ldSoConfDirectories(path: dir + "/" + n)
                }
            } else if line.hasPrefix("/") {
                dirs.append(line)
            }
        }
        return dirs
    }

    static func matches(_ name: String, _ glob: String) -> Bool {
        guard let star = glob.firstIndex(of: "*") else { return name == glob }
        let prefix = glob[..<star], suffix = glob[glob.index(after: star)...]
        return name.count >= prefix.count + suffix.count && name.hasPrefix(prefix) && name.hasSuffix(suffix)
    }
}
