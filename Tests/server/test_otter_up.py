"""`otter up` end to end: started as a process on free ports, driven as a client
over real HTTP and WebSocket (websocket-client), with its real SQLite state."""

import json
import os
import re
import signal
import sqlite3
import stat
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websocket

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from otter_testing import OtterUp, free_port, otter_binary  # noqa: E402

OTTER = otter_binary()


class Up(OtterUp):
    """One `otter up` process; restartable on the same data dir and ports."""

    def __init__(self, data_dir, extra=()):
        super().__init__(data_dir, args=extra)  # extra: more `otter up` flags (e.g. the hidden test timeouts)

    def stop(self, sig="term"):
        return super().stop(signal.SIGTERM if sig == "term" else signal.SIGINT)

    def http(self, method, path, headers=None, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def ws(self, token):
        return websocket.create_connection(self.api.replace("http://", "ws://") + "/signal?token=" + token, timeout=10)


@pytest.fixture
def up():
    d = tempfile.mkdtemp(prefix="otter-up-")
    u = Up(d).start()
    yield u
    u.stop()


def recv(ws):
    return json.loads(ws.recv())


def assert_closed(ws, code=None):
    """The server closed the socket: a close frame (with `code`) or a dropped connection."""
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                if code is not None:
                    assert int.from_bytes(data[:2], "big") == code
                return
            assert opcode != websocket.ABNF.OPCODE_TEXT, f"unexpected frame {data!r}"
    except websocket.WebSocketConnectionClosedException:
        assert code is None


def test_prints_links_and_serves_the_web_app(up):
    key = up.lines["API key"]
    assert key.startswith("otk_")
    assert up.lines["Web app"] == up.api + "/"
    assert "/?room=" in up.lines["Sample room"] and "#token=" in up.lines["Sample room"]
    with urllib.request.urlopen(up.api + "/config.js", timeout=5) as r:
        js = r.read().decode()
    assert js.startswith("window.OTTER_CONFIG = ")
    assert key not in js
    with urllib.request.urlopen(up.api + "/healthz", timeout=5) as r:
        assert r.status == 200
    with urllib.request.urlopen(up.api + "/metrics", timeout=5) as r:
        assert b"otter_signaling_connections" in r.read()


def test_two_peers_exchange_1000_signals_in_order_and_a_third_is_refused(up):
    key = up.lines["API key"]
    status, room = up.http("POST", "/rooms", {"x-api-key": key, "Content-Type": "application/json"}, {})
    assert status == 201
    a, b = up.ws(room["token"]), up.ws(room["token"])
    a.send(json.dumps({"action": "join"}))
    wa = recv(a)
    assert wa["type"] == "welcome" and wa["peers"] == []
    b.send(json.dumps({"action": "join"}))
    wb = recv(b)
    assert wb["peers"] == [wa["peerId"]]
    assert recv(a) == {"type": "peer-joined", "peerId": wb["peerId"]}

    for i in range(1000):
        a.send(json.dumps({"action": "signal", "to": wb["peerId"], "data": {"seq": i, "sdp": "x" * 200}}))
    got = [recv(b) for _ in range(1000)]
    assert [m["data"]["seq"] for m in got] == list(range(1000))
    assert all(m["type"] == "signal" and m["from"] == wa["peerId"] for m in got)

    c = up.ws(room["token"])
    c.send(json.dumps({"action": "join"}))
    assert recv(c)["code"] == "room-full"
    assert_closed(c)

    a.send("{not json")
    assert recv(a)["code"] == "bad-message"
    a.send(json.dumps({"action": "signal", "to": wb["peerId"], "data": {"x": "y" * 70000}}))
    assert recv(a)["code"] == "too-large"
    a.send(json.dumps({"action": "signal", "to": "nobody", "data": {}}))
    assert recv(a)["code"] == "unknown-peer"
    a.send(json.dumps({"action": "ping"}))
    assert recv(a) == {"type": "pong"}

    b.close()
    assert recv(a) == {"type": "peer-left", "peerId": wb["peerId"]}


def test_bad_tokens_get_no_socket(up):
    # DESIGN: the token is checked before the upgrade; a bad one gets the API's
    # JSON error (401 unauthorized, 404 for an unknown room) and never a socket.
    for token in ["", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]:
        with pytest.raises(websocket.WebSocketBadStatusException) as e:
            up.ws(token)
        assert e.value.status_code == 401, (token, e.value.status_code)
        assert json.loads(e.value.resp_body)["error"]["code"] in ("unauthorized", "bad-token")


def test_a_good_token_still_upgrades_after_a_refused_one_on_the_same_server(up):
    key = up.lines["API key"]
    _, room = up.http("POST", "/rooms", {"x-api-key": key})
    with pytest.raises(websocket.WebSocketBadStatusException):
        up.ws(room["token"][:-2] + "xx")  # forged signature
    a = up.ws(room["token"])
    a.send(json.dumps({"action": "join"}))
    assert recv(a)["type"] == "welcome"
    a.close()


def test_shutdown_closes_sockets_with_going_away(up):
    key = up.lines["API key"]
    _, room = up.http("POST", "/rooms", {"x-api-key": key})
    a = up.ws(room["token"])
    a.send(json.dumps({"action": "join"}))
    assert recv(a)["type"] == "welcome"
    start = time.time()
    assert up.stop() == 0
    assert time.time() - start < 10
    assert_closed(a, code=1001)


def test_restart_keeps_key_and_rooms_and_rotation_refuses_the_old_key(up):
    key = up.lines["API key"]
    status, room = up.http("POST", "/rooms", {"x-api-key": key}, None)
    assert status == 201
    assert up.stop() == 0, "SIGTERM must shut down cleanly"
    up.start()
    assert up.lines["API key"].startswith("stored in")
    assert up.http("GET", f"/rooms/{room['roomId']}", {"Authorization": "Bearer " + room["token"]})[0] == 200
    assert up.http("POST", "/rooms", {"x-api-key": key})[0] == 201

    # The CLI against it, using the state `otter up` left in its data dir.
    out = subprocess.run([OTTER, "create-room", "--data-dir", up.data_dir, "--max-peers", "3", "--json"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout)
    assert created["maxPeers"] == 3 and created["url"].startswith(up.api + "/?room=")

    rot = subprocess.run([OTTER, "rotate-key", "--data-dir", up.data_dir, "--json"], capture_output=True, text=True, timeout=30)
    assert rot.returncode == 0, rot.stderr
    new_key = json.loads(rot.stdout)["apiKey"]
    assert up.http("POST", "/rooms", {"x-api-key": key}) == (401, {"error": {"code": "unauthorized", "message": "the API key is not valid (was it rotated?)"}})
    assert up.http("POST", "/rooms", {"x-api-key": new_key})[0] == 201
    # Old room links keep working after rotation and restart.
    assert up.http("GET", f"/rooms/{room['roomId']}", {"Authorization": "Bearer " + room["token"]})[0] == 200

    bad = subprocess.run([OTTER, "create-room", "--api-url", up.api, "--api-key", key], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1
    assert "unauthorized" in bad.stderr


def test_sigint_shuts_down_cleanly(up):
    assert up.stop(sig="int") == 0


def test_open_file_limit_is_raised_for_many_sockets(up):
    # Each signaling socket is a file descriptor: the soft limit must not stay at 1,024.
    limits = open(f"/proc/{up.proc.pid}/limits").read()
    soft, hard = re.search(r"Max open files\s+(\S+)\s+(\S+)", limits).groups()
    assert soft == hard, limits


def test_the_state_database_uses_wal(up):
    # POST /rooms must not wait for a full fsync of the database per room.
    db = sqlite3.connect(str(Path(up.data_dir) / "otter.sqlite"))
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_create_room_and_rotate_key_use_a_deployed_stacks_saved_state(up, tmp_path):
    # The state `otter deploy` saves (.otter/<stack>.json + <stack>.api-key, 0600),
    # pointing here at a live `otter up`: the API contract is the same one the cloud
    # serves (Tests/contract), and moto cannot serve a deployed API.
    key = up.lines["API key"]
    state_dir = tmp_path / "deployed"
    state_dir.mkdir()
    (state_dir / "demo.json").write_text(json.dumps({
        "stack": "demo", "region": "us-east-1", "account": "123456789012", "stackID": "arn:x", "status": "CREATE_COMPLETE",
        "apiURL": up.api, "artifactsBucket": "b", "updatedAt": "2026-11-27T00:00:00Z"}))
    key_file = state_dir / "demo.api-key"
    key_file.write_text(key + "\n")
    os.chmod(key_file, 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTTER_API")}
    run = lambda *a: subprocess.run([OTTER, *a, "--data-dir", str(state_dir)], capture_output=True, text=True, timeout=30, env=env)
    r = run("create-room", "--stack", "demo", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["url"].startswith(up.api)
    r = run("create-room", "--json")  # the only deployed stack, no --stack needed
    assert r.returncode == 0, r.stderr
    r = run("rotate-key", "--stack", "demo", "--json")
    assert r.returncode == 0, r.stderr
    new_key = json.loads(r.stdout)["apiKey"]
    assert key_file.read_text().strip() == new_key and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert up.http("POST", "/rooms", {"x-api-key": key})[0] == 401  # the old key is refused at once
    r = run("create-room", "--stack", "demo")
    assert r.returncode == 0 and "Link: " + up.api in r.stdout, r.stderr
    r = run("create-room", "--stack", "other")
    assert r.returncode == 1 and "otter deploy --stack other" in r.stderr


def test_kill_9_loses_no_acknowledged_room_or_rotation(up):
    """Durability: whatever the API answered 201/200 for survives SIGKILL
    right after the answer (SQLite in WAL mode commits before the reply)."""
    key = up.lines["API key"]
    rooms = []
    for _ in range(40):
        status, room = up.http("POST", "/rooms", {"x-api-key": key, "Content-Type": "application/json"}, {"maxPeers": 3})
        assert status == 201
        rooms.append(room)
    status, rotated = up.http("POST", "/keys/rotate", {"x-api-key": key})
    assert status == 200
    up.proc.kill()  # SIGKILL: no shutdown, no checkpoint
    up.proc.wait(timeout=20)
    up.start()
    for room in rooms:
        status, got = up.http("GET", f"/rooms/{room['roomId']}", {"Authorization": "Bearer " + room["token"]})
        assert status == 200 and got["maxPeers"] == 3, (room, got)
    assert up.http("POST", "/rooms", {"x-api-key": key})[0] == 401
    assert up.http("POST", "/rooms", {"x-api-key": rotated["apiKey"]})[0] == 201
