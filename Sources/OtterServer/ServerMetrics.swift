import Prometheus

/// The Prometheus metrics `otter up` exposes at /metrics.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let roomsCreated: Counter
    let keyRotations: Counter
    let signalingConnections: Gauge
    let signalingMessages: Counter
    let signalingErrors: Counter
    /// Rejoins that took over their own silent seat (DESIGN.md "Seat takeover"):
    /// how often a network change found its old socket still seated.
    let seatTakeovers: Counter
    let authFailures: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "otter", metricName: metric, unitName: unit, helpText: help)
        }
        roomsCreated = registry.makeCounter(descriptor: name("rooms_created", "total", "Rooms created through POST /rooms"))
        keyRotations = registry.makeCounter(descriptor: name("api_key_rotations", "total", "API key rotations"))
        signalingConnections = registry.makeGauge(descriptor: name("signaling_connections", "", "Open signaling WebSockets"))
        signalingMessages = registry.makeCounter(descriptor: name("signaling_messages", "total", "Signaling frames received"))
        signalingErrors = registry.makeCounter(descriptor: name("signaling_errors", "total", "Error frames sent to signaling clients"))
        seatTakeovers = registry.makeCounter(descriptor: name("signaling_seat_takeovers", "total",
                                                              "Rejoins that took over their own seat from a socket the server still held"))
        authFailures = registry.makeCounter(descriptor: name("auth_failures", "total", "Requests refused for a bad API key or room token"))
    }
}
