import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
import otter_testing  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def otter_binary():
    env = os.environ.get("OTTER_BIN")
    if env:
        return env
    for p in (ROOT / ".build/debug/otter", ROOT / ".build/release/otter"):
        if p.exists():
            return str(p)
    pytest.fail("otter binary not found: run `swift build --product otter` or set OTTER_BIN")


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    return otter_testing.free_port("both")


def stun_binding_ok(port):
    """One STUN Binding request; True if a success response comes back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        tid = os.urandom(12)
        s.sendto(b"\x00\x01\x00\x00\x21\x12\xa4\x42" + tid, ("127.0.0.1", port))
        data, _ = s.recvfrom(2048)
        return data[:2] == b"\x01\x01" and data[8:20] == tid
    except OSError:
        return False
    finally:
        s.close()


class Relay:
    def __init__(self, args, tmp_path):
        self.port = free_port()
        self.log = open(tmp_path / f"relay-{self.port}.log", "w+")
        # TLS stays off unless the test gives a certificate.
        tls = [] if any(a.startswith("--cert") for a in args) else ["--no-tls"]
        self.args = [otter_binary(), "relay", "--listening-ip=127.0.0.1", f"--listening-port={self.port}",
                     "--realm=otter.test", *tls, "--no-cli", *args]
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if self.proc.poll() is not None:
                break
            if stun_binding_ok(self.port):
                return
            time.sleep(0.1)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"relay did not start: {self.log.read()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


@pytest.fixture
def start_relay(tmp_path):
    started = []

    def start(*args):
        r = Relay(list(args), tmp_path)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def echo_peer():
    port = free_port()
    proc = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
