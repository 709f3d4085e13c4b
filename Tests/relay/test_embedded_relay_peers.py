"""`otter up`'s embedded relay: which peers it reaches depends on where
`otter up` listens (loopback: all, for local calls; the network: public only,
as `otter relay`), it says so in one line, and it has `otter relay`'s quotas."""
import json
import tempfile
import urllib.parse
import urllib.request

import pytest

from conftest import otter_binary
from otter_testing import OtterUp
from turn_client import TurnClient


class Up(OtterUp):
    def __init__(self, *args):
        super().__init__(tempfile.mkdtemp(prefix="otter-up-relay-"), args=args, until="Relay peers",
                         binary=otter_binary())
        self.start()

    def up_args(self):
        if "0.0.0.0" in self.args and "--public-url" not in self.args:
            # This namespace has only loopback: name the address links use, as a LAN user would.
            return [*self.args, "--public-url", f"http://127.0.0.1:{self.port}"]
        return self.args

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
