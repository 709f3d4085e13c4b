import Prometheus

/// The Prometheus metrics `otter up` exposes at /metrics.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let roomsCreated: Counter
    let keyRotations: Counter
    let signalingConnections: Gauge
    let signalingMessages: Counter
    let signalingErrors: Counter
    let authFailures: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        roomsCreated = registry.makeCounter(name: "otter_rooms_created_total", help: "Rooms created through POST /rooms")
        keyRotations = registry.makeCounter(name: "otter_api_key_rotations_total", help: "API key rotations")
        signalingConnections = registry.makeGauge(name: "otter_signaling_connections", help: "Open signaling WebSockets")
        signalingMessages = registry.makeCounter(name: "otter_signaling_messages_total", help: "Signaling frames received")
        signalingErrors = registry.makeCounter(name: "otter_signaling_errors_total", help: "Error frames sent to signaling clients")
        authFailures = registry.makeCounter(name: "otter_auth_failures_total", help: "Requests refused for a bad API key or room token")
    }
}
