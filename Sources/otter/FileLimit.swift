import Foundation
import Logging

/// Each signaling socket is a file descriptor; the usual soft limit (1,024)
/// would cap `otter up` near 1,000 people. Raise it to the hard limit, as
/// servers do, and say what it is.
enum FileLimit {
    static func raiseToHardLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        logger.debug("open file limit", metadata: ["nofile": "\(limit.rlim_cur)"])
    }
}
