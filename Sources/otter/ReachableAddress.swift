import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The address other machines can use when `otter up` listens on every
/// interface (0.0.0.0 or ::) without --public-url: links printed with
/// "0.0.0.0" open nowhere, so the first up, non-loopback IPv4 address of this
/// machine stands in, and the banner says which interface it came from.
enum ReachableAddress {
    struct Choice: Equatable { let address: String; let interface: String }

    static func isWildcard(_ host: String) -> Bool { ["0.0.0.0", "::", "[::]"].contains(host) }

    /// The first up, non-loopback IPv4 address (interfaces in the order the kernel lists them).
    static func pick() -> Choice? {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return nil }
        defer { freeifaddrs(head) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            let ifa = entry.pointee
            let flags = Int32(ifa.ifa_flags)
            guard let addr = ifa.ifa_addr, addr.pointee.sa_family == sa_family_t(AF_INET),
                  flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let ok = addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> Bool in
                var a = sin.pointee.sin_addr
                return inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil
            }
            if ok { return Choice(address: String(cString: text), interface: String(cString: ifa.ifa_name)) }
        }
        return nil
    }
}
