"""Tests/support/otter_testing: a server told a port that is taken meanwhile
(here coturn's turnutils_peer, which keeps retrying the bind and logs
"Address already in use") is started again on a new port, not waited for."""

import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "support"))
import otter_testing  # noqa: E402


def test_a_taken_port_starts_the_server_again_on_a_new_one(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        picks = []
        real = otter_testing.free_port

        def free_port(kind="tcp"):  # the first pick is the taken port: what a race with another process gives
            picks.append(kind)
            return taken if len(picks) == 1 else real(kind)

        monkeypatch.setattr(otter_testing, "free_port", free_port)
        peer = otter_testing.EchoPeer()
        try:
            assert len(picks) == 2 and peer.port != taken
            assert otter_testing.udp_echoes(peer.port)
        finally:
            peer.stop()
