"""`otter up`'s embedded relay: which peers it reaches depends on where
`otter up` listens (loopback: all, for local calls; the network: public only,
as `otter relay`), it says so in one line, and it has `otter relay`'s quotas."""
import json
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import pytest

from conftest import free_port, otter_binary
from turn_client import TurnClient


class Up:
    def __init__(self, *args):
        self.port, self.relay = free_port(), free_port()
        self.data = tempfile.mkdtemp(prefix="otter-up-relay-")
        if "0.0.0.0" in args and "--public-url" not in args:
            # This namespace has only loopback: name the address links use, as a LAN user would.
            args = (*args, "--public-url", f"http://127.0.0.1:{self.port}")
        self.proc = subprocess.Popen(
            [otter_binary(), "up", "--port", str(self.port), "--relay-port", str(self.relay), "--data-dir", self.data,
             "--log-level", "warning", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = {}
        # Read in a thread: a missing line must fail the test, not block it.
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 60
        while "Relay peers" not in self.lines:
            assert time.time() < deadline, f"otter up printed no 'Relay peers' line: {self.lines}"
            assert self.proc.poll() is None or "Relay peers" in self.lines, f"otter up exited: {self.lines}"
            time.sleep(0.05)

    def _read(self):
        for line in self.proc.stdout:
            if ": " in line:
                k, _, v = line.partition(": ")
                self.lines[k.strip()] = v.strip()

    def credentials(self):
        """The sample room's TURN credentials, as a browser in that room gets them."""
        url = urllib.parse.urlparse(self.lines["Sample room"])
        room = urllib.parse.parse_qs(url.query)["room"][0]
        token = url.fragment.removeprefix("token=")
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/rooms/{room}/ice-servers",
                                     headers={"Authorization": f"Bearer {token}"})
        body = json.loads(urllib.request.urlopen(req, timeout=10).read())
        turn = next(s for s in body["iceServers"] if "username" in s)
        return turn["username"], turn["credential"]

    def client(self):
        return TurnClient(self.relay, *self.credentials())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def up():
    started = []

    def start(*args):
        u = Up(*args)
        started.append(u)
        return u

    yield start
    for u in started:
        u.stop()


def permission_codes(u):
    c = u.client()
    try:
        assert c.allocate().success
        return {ip: c.create_permission(ip).code for ip in ("127.0.0.1", "10.1.2.3", "192.168.1.20", "8.8.8.8")}
    finally:
        c.close()


def test_on_loopback_the_relay_reaches_loopback_and_private_peers(up):
    u = up("--host", "127.0.0.1")
    assert "loopback and private included" in u.lines["Relay peers"], u.lines
    assert permission_codes(u) == {"127.0.0.1": 0, "10.1.2.3": 0, "192.168.1.20": 0, "8.8.8.8": 0}


def test_on_the_network_the_relay_refuses_loopback_and_private_peers(up):
    u = up("--host", "0.0.0.0")
    assert u.lines["Relay peers"].startswith("public addresses only"), u.lines
    assert permission_codes(u) == {"127.0.0.1": 403, "10.1.2.3": 403, "192.168.1.20": 403, "8.8.8.8": 0}


def test_private_peers_on_the_network_only_when_asked(up):
    u = up("--host", "0.0.0.0", "--relay-allow-private-peers")
    assert "--relay-allow-private-peers" in u.lines["Relay peers"], u.lines
    assert permission_codes(u)["127.0.0.1"] == 0


def test_the_embedded_relay_has_the_default_user_quota(up):
    u = up()
    username, password = u.credentials()
    clients = [TurnClient(u.relay, username, password) for _ in range(129)]
    try:
        results = [c.allocate() for c in clients]
        assert all(r.success for r in results[:128]), [r for r in results if not r.success][:3]
        assert results[128].code == 486, results[128]
    finally:
        for c in clients:
            c.close()
