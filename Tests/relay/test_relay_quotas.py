"""Allocation quotas and bandwidth (coturn's --user-quota, --total-quota,
--max-bps, --bps-capacity) on `otter relay`, driven by a TURN client made for
the test (turn_client.py) and by coturn's own turnutils_uclient."""
import re
import socket
import threading
import time
import urllib.request

from test_relay_interop import REST, SECRET, assert_no_loss, uclient
from turn_client import TurnClient, rest_credentials


def client(relay, room, ttl=3600):
    return TurnClient(relay.port, *rest_credentials(SECRET, room, ttl))


def counters(port):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+) (\d+)$", body, re.M)}


def test_user_quota_counts_a_rooms_credentials_together(start_relay):
    relay = start_relay(*REST, "--user-quota", "3", "--prometheus={metrics}")
    metrics = relay.ports["metrics"]
    # Three credentials of one room, handed out at different times (different
    # expiry, so different usernames): coturn counts them as one user.
    room = [client(relay, "room-a", ttl=3600 + i) for i in range(4)]
    for c in room[:3]:
        assert c.allocate().success
    over = room[3].allocate()
    assert (over.code, over.reason) == (486, "Allocation Quota Reached"), over
    other = client(relay, "room-b")
    assert other.allocate().success, "another room has its own quota"

    # A freed allocation (Refresh with LIFETIME 0) frees its place.
    freed = room[0].refresh(0)
    assert freed.success, freed
    assert room[3].allocate().success
    assert client(relay, "room-a").allocate().code == 486
    assert counters(metrics)["otter_relay_allocations_over_quota_total"] == 2


def test_total_quota(start_relay):
    relay = start_relay(*REST, "--total-quota=2")
    assert client(relay, "room-a").allocate().success
    assert client(relay, "room-b").allocate().success
    third = client(relay, "room-c")
    over = third.allocate()
    assert (over.code, over.reason) == (486, "Allocation Quota Reached"), over
    first = client(relay, "room-d")
    assert first.allocate().code == 486


def test_quotas_from_turnserver_conf(start_relay, tmp_path):
    conf = tmp_path / "turnserver.conf"
    conf.write_text(f"""use-auth-secret
static-auth-secret={SECRET}
allow-loopback-peers
min-port=20000
max-port=29999
user-quota=1
total-quota=2
""")
    relay = start_relay("-c", str(conf))
    assert client(relay, "room-a").allocate().success
    assert client(relay, "room-a").allocate().code == 486
    assert client(relay, "room-b").allocate().success
    assert client(relay, "room-c").allocate().code == 486


def test_default_user_quota_is_finite_and_holds_a_full_room(start_relay):
    # No quota flags: 128 allocations of one room (a full 4-peer room in
    # Chromium needs up to 96), then 486; other rooms are unaffected.
    relay = start_relay(*REST)
    clients = [client(relay, "room-a") for _ in range(129)]
    try:
        for i, c in enumerate(clients[:128]):
            r = c.allocate()
            assert r.success, f"allocation {i + 1}: {r}"
        assert clients[128].allocate().code == 486
        assert client(relay, "room-b").allocate().success
    finally:
        for c in clients:
            c.close()
    assert "user-quota=128" in relay.output(), relay.output()[-1500:]


def test_zero_means_no_limit_as_in_coturn(start_relay):
    relay = start_relay(*REST, "--user-quota=0", "--total-quota=0")
    clients = [client(relay, "room-a") for _ in range(140)]
    try:
        assert all(c.allocate().success for c in clients)
    finally:
        for c in clients:
            c.close()


def test_bps_capacity_is_shared_out_in_max_bps_slices(start_relay):
    relay = start_relay(*REST, "--max-bps=1000", "-B", "2500")
    a, b, c, d = (client(relay, f"room-{i}") for i in range(4))
    assert a.allocate().success and b.allocate().success
    assert c.allocate().success, "the last 500 B/s are still granted"
    over = d.allocate()
    assert (over.code, over.reason) == (486, "Allocation Bandwidth Quota Reached"), over
    assert a.refresh(0).success
    assert d.allocate().success


def test_uclient_gets_486_over_the_user_quota(start_relay, echo_peer):
    """coturn's own client: with -W all its clients use one username, and
    `-m 1` makes three allocations (a pair of clients and the extra one,
    docs/NOTES-RELAY.md): user-quota=2 stops it with 486, 3 lets it through."""
    args = ["-W", SECRET, "-m", "1", "-n", "5", "-l", "100"]
    tight = start_relay(*REST, "--user-quota=2")
    out = uclient(tight.port, echo_peer, *args, timeout=60)
    assert "error 486 (Allocation Quota Reached)" in out, out[-2000:]
    assert "tot_recv_msgs=5" not in out, out[-2000:]
    tight.stop()
    enough = start_relay(*REST, "--user-quota=3")
    ok = uclient(enough.port, echo_peer, *args, timeout=60)
    assert "486" not in ok, ok[-2000:]
    assert_no_loss(ok, 10)  # a pair of clients, 5 each


CAP = 20_000        # bytes per second per allocation and direction
PAYLOAD = 500
SECONDS = 2.0


def offer(send, rate):
    """Sends PAYLOAD-byte datagrams at `rate` bytes per second for SECONDS; returns bytes offered."""
    interval = PAYLOAD / rate
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < SECONDS:
        send(bytes(PAYLOAD))
        sent += PAYLOAD
        next_at = start + sent / PAYLOAD * interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    return sent


def drain(sock, until):
    got = 0
    while True:
        sock.settimeout(max(0.05, until - time.monotonic()))
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            return got
        got += len(data) - (4 if data[:1] == b"\x40" else 0)


def test_max_bps_caps_each_direction_of_a_channel(start_relay):
    relay = start_relay(*REST, f"--max-bps={CAP}")
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    c = client(relay, "room-a")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    allocated = c.allocate()
    assert allocated.success, allocated
    assert c.channel_bind(0x4000, *peer.getsockname()).success
    relayed = ("127.0.0.1", allocated.relayed[1])

    # Both directions at 4x the cap at once, for about 2 s; each has its own budget.
    received = {}
    t0 = time.monotonic()
    readers = [threading.Thread(target=lambda k, s: received.__setitem__(k, drain(s, t0 + SECONDS + 1.0)), args=a)
               for a in (("to_peer", peer), ("to_client", c.sock))]
    for r in readers:
        r.start()
    sent = {}
    up = threading.Thread(target=lambda: sent.__setitem__("to_peer", offer(lambda p: c.send_channel_data(0x4000, p), 4 * CAP)))
    up.start()
    sent["to_client"] = offer(lambda p: peer.sendto(p, relayed), 4 * CAP)
    up.join()
    elapsed = time.monotonic() - t0
    for r in readers:
        r.join()

    for direction in ("to_peer", "to_client"):
        got, offered = received[direction], sent[direction]
        # A bucket of one second refilled at CAP: at most one second's burst
        # plus CAP per second of the run, and about that much arrives.
        assert offered >= 3 * CAP * SECONDS, (direction, offered)
        assert got <= CAP * (elapsed + 1) + PAYLOAD, (direction, got, elapsed)
        assert got >= 0.75 * CAP * (SECONDS + 1), (direction, got, elapsed)
