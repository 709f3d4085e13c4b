import Foundation

/// Finds an object with the same key twice in JSON text. Foundation's decoder
/// keeps one of them silently (otter up the first, Python's json the last), so
/// `{"maxPeers":2,"maxPeers":9}` would mean different rooms in the two
/// implementations; both refuse it instead.
enum JSONDuplicateKeys {
    /// The first repeated key, or nil. Expects text a JSON decoder accepted.
    static func first(in bytes: some Collection<UInt8>) -> String? {
        // One frame per open container: the keys seen so far in an object
        // (nil for an array), and whether the next string is a key.
        var stack: [(keys: Set<String>?, expectKey: Bool)] = []
        let a = Array(bytes)
        var i = 0
        while i < a.count {
            switch a[i] {
            case UInt8(ascii: "{"): stack.append((keys: [], expectKey: true))
            case UInt8(ascii: "["): stack.append((keys: nil, expectKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                if let top = stack.last, top.keys != nil { stack[stack.count - 1].expectKey = true }
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < a.count, a[i] != UInt8(ascii: "\"") { i += a[i] == UInt8(ascii: "\\") ? 2 : 1 }
                if let top = stack.last, top.keys != nil, top.expectKey {
                    // Decoded, so "a" and "\u0061" are the same key.
                    let key = (try? JSONDecoder().decode(String.self, from: Data(a[start...min(i, a.count - 1)])))
                        ?? String(decoding: a[start...min(i, a.count - 1)], as: UTF8.self)
                    if stack[stack.count - 1].keys!.insert(key).inserted == false { return key }
                    stack[stack.count - 1].expectKey = false
                }
            default: break
            }
            i += 1
        }
        return nil
    }
}
