import os
import pathlib
import string
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
import otter_testing  # noqa: E402
from otter_testing import stun_binding_ok  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def otter_binary():
    env = os.environ.get("OTTER_BIN")
    if env:
        return env
    for p in (ROOT / ".build/debug/otter", ROOT / ".build/release/otter"):
        if p.exists():
            return str(p)
    pytest.fail("otter binary not found: run `swift build --product otter` or set OTTER_BIN")


class Relay:
    """`otter relay` on 127.0.0.1, its listening port (UDP and TCP) `port` its own.

    An argument, or the text of a `config` file (passed with -c), may hold a
    placeholder for another port the relay is to listen on, e.g.
    "--prometheus={metrics}": each gets a free port, kept in `ports`. When any
    port was taken meanwhile, the relay starts again on new ones."""

    def __init__(self, args, tmp_path, config=None, user=None):
        self.tmp_path = tmp_path
        # `user` ("uid:gid") runs the relay unprivileged, as the relay image does (65532).
        self.user = user
        otter_testing.start_on_free_ports(lambda: self._start(args, config))

    def _start(self, args, config):
        self.port = otter_testing.free_port("both")
        self.ports = {name: otter_testing.free_port("both") for name in _placeholders([*args, config or ""])}
        if config is not None:
            path = self.tmp_path / f"turnserver-{self.port}.conf"
            path.write_text(config.format(**self.ports))
            args = ["-c", str(path), *args]
        self.log_path = self.tmp_path / f"relay-{self.port}.log"
        self.log = open(self.log_path, "w+")
        # TLS stays off unless the test gives a certificate.
        tls = [] if any(a.startswith("--cert") for a in args) else ["--no-tls"]
        drop = [] if self.user is None else ["setpriv", f"--reuid={self.user.split(':')[0]}",
                                             f"--regid={self.user.split(':')[1]}", "--clear-groups"]
        self.args = [*drop, otter_binary(), "relay", "--listening-ip=127.0.0.1", f"--listening-port={self.port}",
                     "--realm=otter.test", *tls, "--no-cli", *(a.format(**self.ports) for a in args)]
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        otter_testing.wait_until_serving(self.proc, self.log_path, lambda: stun_binding_ok(self.port),
                                         timeout=30, what="otter relay")

    def stop(self):
        otter_testing.stop_process(self.proc)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def _placeholders(args):
    return {name for a in args for _, name, _, _ in string.Formatter().parse(a) if name}


@pytest.fixture
def start_relay(tmp_path):
    started = []

    def start(*args, config=None, user=None):
        r = Relay(list(args), tmp_path, config, user)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def echo_peer(tmp_path):
    """coturn's turnutils_peer echoing UDP on a port of its own; yields the port."""
    peer = otter_testing.EchoPeer(tmp_path)
    yield peer.port
    peer.stop()
