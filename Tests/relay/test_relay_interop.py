"""`otter relay` against coturn's own client (turnutils_uclient) and aioice."""
import asyncio
import base64
import hashlib
import hmac
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import otter_binary

SECRET = "interop-secret"
# Relay ports below the ephemeral range (32768+) that free ports are drawn from,
# so a relay socket never lands on a listener port picked for another process.
REST = ["--use-auth-secret", f"--static-auth-secret={SECRET}", "--allow-loopback-peers",
        "--min-port=20000", "--max-port=29999"]
STATIC = ["--lt-cred-mech", "--user=alice:wonderland", "--allow-loopback-peers",
          "--min-port=20000", "--max-port=29999"]


def uclient(relay_port, peer_port, *args, timeout=240):
    cmd = ["turnutils_uclient", "-e", "127.0.0.1", "-r", str(peer_port), "-p", str(relay_port), *args, "127.0.0.1"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return out.stdout + out.stderr


def assert_no_loss(output, expected_msgs):
    lost = re.search(r"Total lost packets (\d+)", output)
    sent = re.search(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", output, re.M)
    assert lost, output[-2000:]
    assert sent, output[-2000:]
    assert int(sent.group(1)) == expected_msgs, output[-2000:]
    assert int(sent.group(2)) == expected_msgs, output[-2000:]
    assert int(lost.group(1)) == 0, output[-2000:]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("channels", ["channels", "indications"])
def test_uclient_rest_secret(start_relay, echo_peer, transport, channels):
    relay = start_relay(*REST)
    # uclient runs clients in pairs: keep -m even so the message count is exact.
    args = ["-W", SECRET, "-m", "4", "-n", "60", "-l", "170"]
    if transport == "tcp":
        args.append("-t")
    if channels == "indications":
        args.append("-c")
    assert_no_loss(uclient(relay.port, echo_peer, *args), 4 * 60)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_uclient_static_user(start_relay, echo_peer, transport):
    relay = start_relay(*STATIC)
    args = ["-u", "alice", "-w", "wonderland", "-m", "2", "-n", "50", "-l", "120"]
    if transport == "tcp":
        args.append("-t")
    assert_no_loss(uclient(relay.port, echo_peer, *args), 100)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_uclient_relays_through_a_relay_running_unprivileged(start_relay, echo_peer, transport):
    """The relay image runs as user 65532, without capabilities. Accepted TCP connections
    once had TCP_NODELAY set at the socket level, i.e. SO_DEBUG, which needs CAP_NET_ADMIN:
    as root it passed unnoticed, unprivileged every TCP client was closed at once."""
    relay = start_relay(*REST, user="65532:65532")
    args = ["-W", SECRET, "-m", "2", "-n", "40", "-l", "170", *(["-t"] if transport == "tcp" else [])]
    assert_no_loss(uclient(relay.port, echo_peer, *args), 2 * 40)


def test_uclient_many_clients(start_relay, echo_peer):
    relay = start_relay(*REST)
    assert_no_loss(uclient(relay.port, echo_peer, "-W", SECRET, "-m", "40", "-n", "50", "-l", "170"), 2000)


def test_uclient_wrong_password_relays_nothing(start_relay, echo_peer):
    relay = start_relay(*STATIC)
    out = uclient(relay.port, echo_peer, "-u", "alice", "-w", "wrong", "-m", "1", "-n", "5", "-l", "100", timeout=60)
    assert "tot_recv_msgs=5" not in out
    assert "401" in out or "Cannot complete Allocation" in out or "error" in out.lower(), out[-2000:]


def test_uclient_loopback_peer_refused_by_default(start_relay, echo_peer):
    relay = start_relay("--use-auth-secret", f"--static-auth-secret={SECRET}")
    out = uclient(relay.port, echo_peer, "-W", SECRET, "-m", "1", "-n", "5", "-l", "100", timeout=60)
    assert "403" in out, out[-2000:]
    assert not re.search(r"tot_recv_msgs=5\b", out)


def test_the_shipped_sample_config_runs_with_deployment_values_on_the_command_line(start_relay, echo_peer):
    """Templates/relay/turnserver.conf is what the relay image runs: as shipped,
    with the secret, ports and peer policy given on the command line (which,
    as in coturn, wins over the file), it serves a REST-secret client."""
    sample = Path(__file__).resolve().parents[2] / "Templates" / "relay" / "turnserver.conf"
    relay = start_relay("-c", str(sample), f"--static-auth-secret={SECRET}", "--prometheus={metrics}",
                        "--allow-loopback-peers", "--min-port=20000", "--max-port=29999")
    assert_no_loss(uclient(relay.port, echo_peer, "-W", SECRET, "-m", "2", "-n", "20", "-l", "100"), 40)
    assert urllib.request.urlopen(f"http://127.0.0.1:{relay.ports['metrics']}/healthz", timeout=5).read() == b"ok\n"
    assert "CHANGE-ME" not in relay.output()


def test_config_file_and_metrics(start_relay, echo_peer):
    relay = start_relay(config=f"""# coturn-style file
use-auth-secret
static-auth-secret={SECRET}
allow-loopback-peers
min-port=20000
max-port=29999
fingerprint
prometheus={{metrics}}
""")
    metrics_port = relay.ports["metrics"]
    assert_no_loss(uclient(relay.port, echo_peer, "-W", SECRET, "-m", "2", "-n", "20", "-l", "100"), 40)
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    sent = int(re.search(r"^turn_traffic_rcvp (\d+)$", body, re.M).group(1))
    assert sent >= 40, body
    assert re.search(r"^otter_relay_allocations_created_total [1-9]", body, re.M), body
    assert urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz", timeout=5).read() == b"ok\n"


def test_unsupported_option_is_named():
    out = subprocess.run([otter_binary(), "relay", "--user=a:b", "--tcp-relay"], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "tcp-relay" in out.stderr and "not supported" in out.stderr, out.stderr


def rest_credentials(secret, user="aioice", ttl=3600):
    username = f"{int(time.time()) + ttl}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_aioice_relay_candidate_echo(start_relay, echo_peer, transport):
    aioice_turn = pytest.importorskip("aioice.turn")
    relay = start_relay(*REST)
    username, password = rest_credentials(SECRET)

    async def run():
        loop = asyncio.get_running_loop()
        received = asyncio.Queue()

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                received.put_nowait((data, addr))

        transport_, _ = await aioice_turn.create_turn_endpoint(
            Proto, server_addr=("127.0.0.1", relay.port), username=username, password=password,
            transport=transport)
        try:
            relayed = transport_.get_extra_info("sockname")
            assert relayed[0] == "127.0.0.1" and 20000 <= relayed[1] <= 29999, relayed
            for i in range(20):
                payload = f"hello-{i}".encode() * 10
                transport_.sendto(payload, ("127.0.0.1", echo_peer))
                data, addr = await asyncio.wait_for(received.get(), 5)
                assert data == payload
                assert addr == ("127.0.0.1", echo_peer)
        finally:
            transport_.close()
            await asyncio.sleep(0.1)
        del loop

    asyncio.run(run())
