"""max-bps and the allocation watchdog (coturn's max-allocate-timeout)."""
import os
import re
import socket
import struct
import time
import urllib.request

from test_relay_interop import REST, SECRET, assert_no_loss, uclient

CAP = 8000          # bytes per second per allocation and direction
LENGTH = 1000       # payload bytes per message
CLIENTS = 2
MESSAGES = 300      # per client, one every 5 ms: 200 kB/s offered, 25x the cap


def counters(port):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+) (\d+)$", body, re.M)}


def totals(output):
    m = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", output, re.M)
    assert m, output[-2000:]
    return int(m[-1][0]), int(m[-1][1])


def test_max_bps_throttles_a_session(start_relay, echo_peer):
    # -c: no RTCP allocations, so each client has exactly one allocation carrying data.
    load = ["-c", "-W", SECRET, "-m", str(CLIENTS), "-n", str(MESSAGES), "-l", str(LENGTH), "-z", "5"]

    # The same load without a cap goes through whole: the drops below are the cap's.
    free = start_relay(*REST)
    assert_no_loss(uclient(free.port, echo_peer, *load), CLIENTS * MESSAGES)
    free.stop()

    capped = start_relay(*REST, f"--max-bps={CAP}", "--prometheus={metrics}")
    metrics_port = capped.ports["metrics"]
    t0 = time.monotonic()
    out = uclient(capped.port, echo_peer, *load)
    wall = time.monotonic() - t0
    sent, received = totals(out)
    assert sent == CLIENTS * MESSAGES, out[-2000:]
    # A token bucket lets through at most one second of burst plus the rate
    # times the time the allocation existed (less than the client's run),
    # in each direction, per allocation. Holds however slow the machine is.
    ceiling = CLIENTS * CAP * (wall + 1) / LENGTH
    assert received <= ceiling, f"{received} echoed in {wall:.1f} s, cap allows {ceiling:.0f}"
    assert received < sent / 2, out[-2000:]
    # Throttled, not cut off: at least the first second's budget arrives.
    assert received >= CLIENTS * CAP / LENGTH / 2, out[-2000:]
    c = counters(metrics_port)
    assert c["otter_relay_dropped_over_bandwidth_total"] > 0, c
    # Nothing beyond the cap reached the peer either.
    assert c["turn_traffic_rcvb"] <= CLIENTS * CAP * (wall + 1), c


def binding_request():
    return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + os.urandom(12)


def test_tcp_connection_without_allocation_is_closed(start_relay):
    relay = start_relay(*REST, "--max-allocate-timeout=1")
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as s:
        # A Binding is served, but it is not an allocation: the watchdog still closes.
        s.sendall(binding_request())
        answer = s.recv(1000)
        assert answer[:2] == b"\x01\x01", answer
        t0 = time.monotonic()
        assert s.recv(100) == b""
        closed_after = time.monotonic() - t0
    assert closed_after < 8, closed_after


def test_tcp_connection_with_allocation_outlives_the_timeout(start_relay, echo_peer):
    relay = start_relay(*REST, "--max-allocate-timeout=1")
    # 100 messages 30 ms apart: about 3 s on allocated connections, three watchdog rounds.
    assert_no_loss(uclient(relay.port, echo_peer, "-t", "-W", SECRET, "-m", "2", "-n", "100", "-l", "120", "-z", "30"), 200)


def test_tcp_frames_split_and_coalesced_and_garbage_closes(start_relay):
    # The stream handler frames TCP itself: a message cut into pieces, and two
    # messages in one write, are each answered once; bytes that are neither
    # STUN nor ChannelData (first two bits 1x) close the connection.
    relay = start_relay(*REST)
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as s:
        first = binding_request()
        for piece in (first[:3], first[3:11], first[11:]):
            s.sendall(piece)
            time.sleep(0.05)
        a, b = binding_request(), binding_request()
        s.sendall(a + b)
        got = b""
        while len(got) < 3 * 20 or len(got) < 3 * (20 + struct.unpack("!H", got[2:4])[0]):
            chunk = s.recv(4096)
            assert chunk, got
            got += chunk
        ids = []
        while got:
            length = struct.unpack("!H", got[2:4])[0]
            assert got[:2] == b"\x01\x01", got
            ids.append(got[8:20])
            got = got[20 + length:]
        assert ids == [first[8:20], a[8:20], b[8:20]], ids
        s.sendall(b"\xc0" + os.urandom(30))
        assert s.recv(100) == b""
