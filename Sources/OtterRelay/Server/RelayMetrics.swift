/// Counters of the relay, kept under the engine lock (plain integers: no
/// atomics on the per-packet path) and read under it when /metrics is served.
struct RelayMetrics {
    var allocationsCreated = 0
    var allocationsDeleted = 0
    var allocationsActive = 0
    var allocationsOverQuota = 0
    var bytesFromClients = 0
    var packetsFromClients = 0
    var bytesToClients = 0
    var packetsToClients = 0
    var bindingRequests = 0
    var authFailures = 0
    var forbiddenPeers = 0
    var droppedNoPermission = 0
    var droppedOverBandwidth = 0
    var malformed = 0
    var droppedSocketFull = 0
    var sendErrors = 0
    var streamWriteWaits = 0
    var segmentedSends = 0

    /// The shards' counters added up (each shard keeps its own, under its lock).
    static func total(_ shards: [RelayMetrics]) -> RelayMetrics {
        var t = RelayMetrics()
        for m in shards {
            t.allocationsCreated += m.allocationsCreated
            t.allocationsDeleted += m.allocationsDeleted
            t.allocationsActive += m.allocationsActive
            t.allocationsOverQuota += m.allocationsOverQuota
            t.bytesFromClients &+= m.bytesFromClients
            t.packetsFromClients &+= m.packetsFromClients
            t.bytesToClients &+= m.bytesToClients
            t.packetsToClients &+= m.packetsToClients
            t.bindingRequests += m.bindingRequests
            t.authFailures += m.authFailures
            t.forbiddenPeers += m.forbiddenPeers
            t.droppedNoPermission &+= m.droppedNoPermission
            t.droppedOverBandwidth &+= m.droppedOverBandwidth
            t.malformed += m.malformed
            t.droppedSocketFull &+= m.droppedSocketFull
            t.sendErrors &+= m.sendErrors
            t.streamWriteWaits &+= m.streamWriteWaits
            t.segmentedSends &+= m.segmentedSends
        }
        return t
    }

    func prometheusText() -> String {
        var s = ""
        func line(_ name: String, _ type: String, _ help: String, _ value: Int) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        line("turn_total_allocations", "gauge", "Allocations currently active.", allocationsActive)
        line("otter_relay_allocations_created_total", "counter", "Allocations created.", allocationsCreated)
        line("otter_relay_allocations_deleted_total", "counter", "Allocations deleted or expired.", allocationsDeleted)
        line("otter_relay_allocations_over_quota_total", "counter", "Allocate requests refused with 486 (user-quota, total-quota or bps-capacity).", allocationsOverQuota)
        line("turn_traffic_rcvb", "counter", "Payload bytes received from clients for peers.", bytesFromClients)
        line("turn_traffic_rcvp", "counter", "Packets received from clients for peers.", packetsFromClients)
        line("turn_traffic_sentb", "counter", "Payload bytes sent from peers to clients.", bytesToClients)
        line("turn_traffic_sentp", "counter", "Packets sent from peers to clients.", packetsToClients)
        line("otter_relay_binding_requests_total", "counter", "STUN Binding requests answered.", bindingRequests)
        line("otter_relay_auth_failures_total", "counter", "Requests refused with 401.", authFailures)
        line("otter_relay_forbidden_peers_total", "counter", "Peers refused with 403 by the peer policy.", forbiddenPeers)
        line("otter_relay_dropped_no_permission_total", "counter", "Packets dropped for lack of a permission.", droppedNoPermission)
        line("otter_relay_dropped_over_bandwidth_total", "counter", "Packets dropped because an allocation exceeded max-bps.", droppedOverBandwidth)
        line("otter_relay_malformed_total", "counter", "Messages that could not be parsed.", malformed)
        line("otter_relay_dropped_socket_full_total", "counter", "Packets dropped because a UDP socket's send buffer was full or a TCP client left too much unread.", droppedSocketFull)
        line("otter_relay_tcp_write_waits_total", "counter", "Times a TCP client's socket buffer was full and relayed data waited for room.", streamWriteWaits)
        line("otter_relay_gso_sends_total", "counter", "UDP sends that carried two or more datagrams to one destination as one (UDP GSO).", segmentedSends)
        line("otter_relay_send_errors_total", "counter", "Packets the kernel refused to send (unreachable, too big).", sendErrors)
        return s
    }
}
