"""`otter up` probed as an attacker would, over raw sockets against a
live server: local file modes, malformed HTTP, slowloris, connections per
address, 405s, JSON bodies, strict WebSocket framing, sockets that never join,
a failed first start, and a closed stdout. docs/SECURITY.md lists the limits."""

import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from test_otter_up import OTTER, Up, free_port
from otter_testing import PORT_TAKEN, PortTaken, start_on_free_ports


@pytest.fixture
def up():
    u = Up(tempfile.mkdtemp(prefix="otter-hard-")).start()
    yield u
    u.stop()


def new_room(up, **body):
    status, room = up.http("POST", "/rooms", {"x-api-key": up.lines["API key"], "Content-Type": "application/json"}, body)
    assert status == 201, room
    return room


# ---------------------------------------------------------------- raw HTTP

def exchange(up, data, timeout=1.0):
    """Sends `data` on a fresh connection; returns (status or None, seconds).
    None: the server closed without an answer. Fails if it does neither within `timeout`."""
    s = socket.create_connection(("127.0.0.1", up.port), timeout=timeout)
    t0 = time.monotonic()
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: an answer may be waiting
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                raise AssertionError(f"no answer and no close within {timeout} s; got {got[:80]!r}")
            if not chunk:
                break
            got += chunk
        status = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.") else None
        return status, time.monotonic() - t0, got
    finally:
        s.close()


MALFORMED = {
    "80 KiB header": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (80 * 1024) + b"\r\n\r\n", 431),
    "20,000 headers": (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(20000)) + b"\r\n", 431),
    "1 MiB URL": (b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "binary junk": (bytes(range(256)) * 4, 400),
    "HTTP/9.9": (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    "Content-Length with chunked": (b"POST /rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "negative Content-Length": (b"POST /rooms HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_requests_get_their_4xx_and_a_close_within_a_second(up, case):
    data, expected = MALFORMED[case]
    status, took, raw = exchange(up, data)
    assert status == expected, f"{case}: {raw[:200]!r}"
    assert took < 1.0
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert "error" in json.loads(body)
    # The server is unharmed.
    assert exchange(up, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200


def test_a_request_head_must_arrive_in_time_slowloris():
    # 50 connections send half a head and stall. The hidden --request-timeout
    # (default 10 s) is 1.5 s here so the probe runs in about 3 s.
    u = Up(tempfile.mkdtemp(prefix="otter-hard-"), extra=["--request-timeout", "1.5"]).start()
    try:
        socks = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", u.port), timeout=6)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        t0 = time.monotonic()
        # Meanwhile a whole request is served at once.
        assert exchange(u, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200
        for s in socks:
            try:
                assert s.recv(1024) == b""  # closed by the server, nothing sent
            except ConnectionResetError:
                pass
        took = time.monotonic() - t0
        assert 1.0 < took < 4.0, took
        # A keep-alive connection idle after its answer is closed the same way.
        s = socket.create_connection(("127.0.0.1", u.port), timeout=6)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        while s.recv(4096):
            pass
        assert 1.0 < time.monotonic() - t0 < 4.0
    finally:
        u.stop()


def test_connections_per_client_address_are_bounded():
    u = Up(tempfile.mkdtemp(prefix="otter-hard-"), extra=["--max-connections-per-address", "8"]).start()
    try:
        held = [socket.create_connection(("127.0.0.1", u.port), timeout=5) for _ in range(8)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", u.port), timeout=2)
        t0 = time.monotonic()
        try:
            assert extra.recv(1024) == b""  # the ninth is closed at once, unanswered
        except ConnectionResetError:
            pass
        assert time.monotonic() - t0 < 1.0
        held.pop().close()
        time.sleep(0.3)
        assert exchange(u, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200
        for s in held:
            s.close()
    finally:
        u.stop()


# ---------------------------------------------------------------- methods, JSON

def test_an_undeclared_method_on_a_known_path_is_405_with_allow(up):
    for method, path, allow in [("DELETE", "/rooms", "POST"), ("PUT", "/rooms/abc", "GET"),
                                ("POST", "/healthz", "GET"), ("GET", "/keys/rotate", "POST")]:
        req = urllib.request.Request(up.api + path, method=method)
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError(f"{method} {path} succeeded")
        except urllib.error.HTTPError as e:
            assert e.code == 405, (method, path, e.code)
            assert e.headers["Allow"] == allow
            assert json.loads(e.read())["error"]["code"] == "method-not-allowed"
    assert up.http("GET", "/no-such-path")[0] == 404


def post_rooms(up, raw, content_type="application/json"):
    headers = {"x-api-key": up.lines["API key"]}
    if content_type:
        headers["Content-Type"] = content_type
    # http.client, not urllib: urllib adds a form Content-Type to a body without one.
    c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    try:
        c.request("POST", "/rooms", body=raw, headers=headers)
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def test_json_bodies_are_unambiguous(up):
    assert post_rooms(up, b'{"maxPeers":2,"maxPeers":4}')[0] == 400
    assert post_rooms(up, b'{"maxPeers":2,"m\\u0061xPeers":4}')[0] == 400  # the same key, escaped
    assert post_rooms(up, b'{"a":{"x":1},"b":{"x":2}}')[0] == 201  # same key in two objects is fine
    assert post_rooms(up, b'\xef\xbb\xbf{"maxPeers":2}')[0] == 400
    status, body = post_rooms(up, b'{"maxPeers":2}', "text/plain")
    assert status == 415 and body["error"]["code"] == "unsupported-media-type"
    assert post_rooms(up, b'{"maxPeers":3}', "application/json; charset=utf-8") [0] == 201
    assert post_rooms(up, b'{"maxPeers":3}', None)[0] == 201  # no Content-Type: taken as JSON


# ---------------------------------------------------------------- raw WebSocket

def ws_open(up, token, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", up.port), timeout=5, source_address=(source, 0))
    s.sendall((f"GET /signal?token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
    out = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    m = 0x80 if mask else 0
    n = len(payload)
    out += bytes([m | n]) if n < 126 else bytes([m | 126]) + n.to_bytes(2, "big")
    if mask:
        key = os.urandom(4)
        out += key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def close_code(s, timeout=2.0):
    """Reads server frames until a close; returns its code (None for an empty
    close), answers it as a browser would, and checks that the TCP connection
    then ends."""
    s.settimeout(timeout)
    while True:
        b0, b1 = read_exact(s, 2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(read_exact(s, 2), "big")
        elif n == 127:
            n = int.from_bytes(read_exact(s, 8), "big")
        payload = read_exact(s, n)
        if b0 & 0x0F == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            try:
                s.sendall(frame(8, payload[:2]))
            except OSError:
                pass  # a failed connection is already closed
            try:
                assert s.recv(1) == b"", "the server must close the TCP connection after failing the socket"
            except ConnectionResetError:
                pass
            return code


WS_CASES = {
    "unmasked text frame": (frame(1, b'{"action":"ping"}', mask=False), 1002),
    "RSV1 set": (frame(1, b'{"action":"ping"}', rsv=4), 1002),
    "RSV3 set": (frame(1, b'{"action":"ping"}', rsv=1), 1002),
    "reserved data opcode 3": (frame(3, b"x"), 1002),
    "reserved control opcode 11": (frame(11, b""), 1002),
    "invalid UTF-8 text": (frame(1, b'{"action":"ping","x":"\xff\xfe"}'), 1007),
    "close with code 999": (frame(8, (999).to_bytes(2, "big")), 1002),
    "close with reserved code 1005": (frame(8, (1005).to_bytes(2, "big")), 1002),
    "close with a one-byte payload": (frame(8, b"\x03"), 1002),
    "close reason not UTF-8": (frame(8, (1000).to_bytes(2, "big") + b"\xff"), 1007),
    "continuation without a start": (frame(0, b"x"), 1002),
    "valid close 4000 is echoed": (frame(8, (4000).to_bytes(2, "big")), 4000),
}


@pytest.mark.parametrize("case", list(WS_CASES))
def test_websocket_frames_follow_rfc_6455(up, case):
    data, expected = WS_CASES[case]
    s = ws_open(up, new_room(up)["token"])
    try:
        s.sendall(data)
        assert close_code(s) == expected
    finally:
        s.close()


def test_a_socket_that_never_joins_is_closed_and_unjoined_sockets_are_bounded():
    # The hidden --join-timeout (default 10 s) is 3 s here.
    u = Up(tempfile.mkdtemp(prefix="otter-hard-"), extra=["--join-timeout", "3"]).start()
    try:
        token = new_room(u)["token"]
        idle = ws_open(u, token)
        t0 = time.monotonic()
        assert close_code(idle, timeout=6) == 1008
        assert 2.5 < time.monotonic() - t0 < 5
        idle.close()

        # 16 unjoined sockets per room token (from 2 addresses); a 17th, from a
        # third address, is refused (1008) at once.
        t0 = time.monotonic()
        held = [ws_open(u, token, "127.0.0.2") for _ in range(10)] + [ws_open(u, token, "127.0.0.3") for _ in range(6)]
        extra = ws_open(u, token, "127.0.0.4")
        assert close_code(extra, timeout=1) == 1008
        # A socket that joins frees its place.
        held[0].sendall(frame(1, b'{"action":"join"}'))
        time.sleep(0.3)
        place = ws_open(u, token, "127.0.0.4")
        place.sendall(frame(1, b'{"action":"ping"}'))
        place.settimeout(1)
        assert b"pong" in place.recv(1024)
        # 16 unjoined sockets per address, across rooms; the 17th is refused.
        other = [ws_open(u, new_room(u)["token"], "127.0.0.5") for _ in range(16)]
        extra2 = ws_open(u, new_room(u)["token"], "127.0.0.5")
        assert close_code(extra2, timeout=1) == 1008
        assert time.monotonic() - t0 < 3, "the sockets above must not have met the join timeout"
        for s in held + other + [place, extra, extra2]:
            s.close()
    finally:
        u.stop()


# ---------------------------------------------------------------- local state

def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_data_dir_and_every_file_in_it_are_private_whatever_existed_before():
    d = Path(tempfile.mkdtemp(prefix="otter-hard-"))
    os.chmod(d, 0o755)
    (d / "old-note.txt").write_text("x")
    os.chmod(d / "old-note.txt", 0o644)
    (d / "sub").mkdir()
    os.chmod(d / "sub", 0o755)
    previous = os.umask(0o022)  # what most shells have; the server must not inherit it
    try:
        u = Up(str(d)).start()  # its server.log, made by the test with umask 022, is in d too
    finally:
        os.umask(previous)
    try:
        new_room(u)
        assert mode(d) == 0o700
        files = [p for p in d.rglob("*") if p.is_file() and not p.is_symlink()]
        names = {p.name for p in files}
        assert {"otter.sqlite", "otter.sqlite-wal", "otter.sqlite-shm", "api-key", "up.json"} <= names, names
        assert {str(p): oct(mode(p)) for p in files if mode(p) != 0o600} == {}
        assert mode(d / "sub") == 0o700
        assert "made " + str(d) + " private" in open(u.log.name).read()
    finally:
        u.stop()


def test_a_busy_port_is_named_and_loses_no_key(tmp_path):
    d = tmp_path / "state"
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    for _ in range(5):  # the relay port is only picked: if it was taken meanwhile, pick again
        r = subprocess.run([OTTER, "up", "--port", str(port), "--relay-port", str(free_port(socket.SOCK_DGRAM)),
                            "--data-dir", str(d)], capture_output=True, text=True, timeout=60)
        if "Pick another --relay-port" not in r.stderr:
            break
    busy.close()
    assert r.returncode == 1
    assert f"127.0.0.1:{port}" in r.stderr and "--port" in r.stderr and "in use" in r.stderr, r.stderr
    assert "bind(" not in r.stderr + r.stdout
    # The key hash is stored only with its key on disk: the next start finds both.
    key = (d / "api-key").read_text().strip()
    assert key.startswith("otk_")
    u = Up(str(d)).start()
    try:
        assert u.lines["API key"].startswith("stored in")
        assert u.http("POST", "/rooms", {"x-api-key": key})[0] == 201
    finally:
        u.stop()


def test_a_lost_key_file_says_how_to_recover_and_rotate_key_works_locally(up):
    old = up.lines["API key"]
    assert up.stop() == 0
    os.remove(os.path.join(up.data_dir, "api-key"))
    up.start()
    assert "otter rotate-key --data-dir " + up.data_dir in up.lines["API key"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTTER_API")}
    r = subprocess.run([OTTER, "rotate-key", "--data-dir", up.data_dir, "--json"], capture_output=True, text=True,
                       timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    new = json.loads(r.stdout)["apiKey"]
    assert Path(up.data_dir, "api-key").read_text().strip() == new
    assert mode(os.path.join(up.data_dir, "api-key")) == 0o600
    # The running server takes the new key at once and refuses the old one.
    assert up.http("POST", "/rooms", {"x-api-key": new})[0] == 201
    assert up.http("POST", "/rooms", {"x-api-key": old})[0] == 401
    r = subprocess.run([OTTER, "create-room", "--data-dir", up.data_dir, "--json"], capture_output=True, text=True,
                       timeout=30, env=env)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------- closed stdout

def test_a_closed_stdout_does_not_kill_the_server():
    d = tempfile.mkdtemp(prefix="otter-hard-")
    log_path = os.path.join(d, "server.log")

    def start():
        port = free_port()
        r, w = os.pipe()
        os.close(r)  # every line `otter up` prints meets EPIPE (SIGPIPE if not ignored)
        with open(log_path, "w") as log:
            p = subprocess.Popen([OTTER, "up", "--port", str(port), "--relay-port", str(free_port("both")),
                                  "--data-dir", d], stdout=w, stderr=log)
        os.close(w)
        deadline = time.time() + 60
        while True:
            if p.poll() is not None:
                err = open(log_path).read()
                if any(m in err for m in PORT_TAKEN):
                    raise PortTaken(err)
                raise AssertionError(f"otter up died ({p.returncode}): {err[-1500:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert resp.status == 200
                    return p
            except OSError:
                if time.time() > deadline:
                    p.kill()
                    raise
                time.sleep(0.2)

    p = start_on_free_ports(start)
    try:
        time.sleep(0.5)  # past the printing of the links
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 0
    finally:
        if p.poll() is None:
            p.kill()
    err = open(log_path).read()
    assert "Illegal instruction" not in err and "Fatal error" not in err, err


def test_otter_up_piped_into_head_exits_without_a_signal():
    d = tempfile.mkdtemp(prefix="otter-hard-")

    def start():
        port = free_port()
        cmd = (f"{OTTER} up --port {port} --relay-port {free_port('both')} --data-dir {d} "
               f"2>{d}/err.log | head -3")
        p = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        lines = [p.stdout.readline() for _ in range(3)]
        if not lines[0] and any(m in open(f"{d}/err.log").read() for m in PORT_TAKEN):
            p.wait(timeout=20)
            raise PortTaken(open(f"{d}/err.log").read())
        return p, port, lines

    p, port, lines = start_on_free_ports(start)
    try:
        assert lines[0].startswith("API URL: "), lines
        time.sleep(1)
        # head has gone; the server still serves (it was not killed by SIGPIPE)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert resp.status == 200
        os.killpg(p.pid, signal.SIGTERM)
        _, shell_err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    err = open(f"{d}/err.log").read() + shell_err
    assert "Illegal instruction" not in err and "Fatal error" not in err, err
