/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`: `[section]`
/// headers, `key = value` lines, `#`/`;` comments; nested (indented) keys are
/// kept flattened as `parent.child` so e.g. `s3 =\n  addressing_style = path` is readable.
public struct INIFile: Sendable, Equatable {
    public private(set) var sections: [String: [String: String]] = [:]

    public init(text: String) {
        var current: String?
        var parent: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
                current = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                parent = nil
                if sections[current!] == nil { sections[current!] = [:] }
                continue
            }
            guard let section = current, let eq = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            let indented = line.first == " " || line.first == "\t"
            if indented, let p = parent {
                sections[section]![p + "." + key] = value
            } else {
                sections[section]![key] = value
                parent = value.isEmpty ? key : nil
            }
        }
    }

    public subscript(section: String) -> [String: String]? { sections[section] }
}

import Foundation
