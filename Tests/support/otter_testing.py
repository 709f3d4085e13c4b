"""Test support shared by the Python suites and the benchmarks: free ports,
servers started on them, and an `otter up` process.

A port found free is only free until someone else binds it, so nothing here
picks a port and hopes: `OtterUp` starts again on new ports when `otter up`
refuses a taken port ("Pick another --port" / "--relay-port"); ports the test
chose itself, and the ports of a restart, are kept as they are. Servers that are
told their port (coturn's turnserver and turnutils_peer, `otter relay`) go
through `start_on_free_ports`, which reads their log for "Address already in
use" and starts them again on new ports.
"""

import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_KINDS = {"tcp": (socket.SOCK_STREAM,), "udp": (socket.SOCK_DGRAM,),
          "both": (socket.SOCK_DGRAM, socket.SOCK_STREAM),
          socket.SOCK_STREAM: (socket.SOCK_STREAM,), socket.SOCK_DGRAM: (socket.SOCK_DGRAM,)}


def otter_binary():
    return os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))


def free_port(kind="tcp"):
    """A port free on 127.0.0.1 for `kind`: "tcp", "udp", "both" (or a socket type)."""
    types = _KINDS[kind]
    for _ in range(50):
        socks = [socket.socket(socket.AF_INET, t) for t in types]
        try:
            socks[0].bind(("127.0.0.1", 0))
            port = socks[0].getsockname()[1]
            try:
                for s in socks[1:]:
                    s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no free {kind} port on 127.0.0.1")


class RefusingPort:
    """A TCP port on 127.0.0.1 where nothing answers: bound, so no one else can
    take it, but not listening, so connections are refused. `with RefusingPort() as port:`"""

    def __enter__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


PORT_TAKEN = ("Pick another --port", "Pick another --relay-port")
# What coturn's programs, `otter relay` and Python print when a listening port is taken.
ADDRESS_IN_USE = ("Address already in use", "errno=98", "cannot listen on", "could not listen on")


class PortTaken(Exception):
    """A server could not bind a port it was given: start it again on new ones."""


def wait_until_serving(proc, log_path, ready, timeout=30, what="server"):
    """Waits until `ready()` is true. A log saying a port is taken kills the
    process and raises PortTaken; an exit or the timeout raises RuntimeError."""
    deadline = time.time() + timeout
    while True:
        with open(log_path, errors="replace") as f:
            log = f.read()
        if any(m in log for m in ADDRESS_IN_USE):
            stop_process(proc)
            raise PortTaken(f"{what}: {log[-500:]}")
        if proc.poll() is not None or time.time() > deadline:
            stop_process(proc)
            raise RuntimeError(f"{what} did not start (exit {proc.returncode}): {log[-2000:]}")
        if ready():
            return
        time.sleep(0.1)


def start_on_free_ports(start, attempts=5):
    """`start()` picks its own free ports each call and raises PortTaken when one
    was taken in the meantime; then it is called again, at most `attempts` times."""
    for attempt in range(attempts):
        try:
            return start()
        except PortTaken:
            if attempt + 1 == attempts:
                raise


def stop_process(proc, timeout=10):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def udp_echoes(port, timeout=0.3):
    """True if a datagram sent to 127.0.0.1:`port` comes back (turnutils_peer is an echo server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        probe = os.urandom(8)
        try:
            s.sendto(probe, ("127.0.0.1", port))
            return s.recvfrom(2048)[0] == probe
        except OSError:
            return False


def stun_binding_ok(port, timeout=0.3):
    """One STUN Binding request over UDP; True if a success response comes back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        tid = os.urandom(12)
        try:
            s.sendto(b"\x00\x01\x00\x00\x21\x12\xa4\x42" + tid, ("127.0.0.1", port))
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
        return data[:2] == b"\x01\x01" and data[8:20] == tid


class EchoPeer:
    """coturn's turnutils_peer (a UDP echo server) on a port of its own; `port`, `stop()`."""

    def __init__(self, log_dir=None):
        def start():
            self.port = free_port("udp")
            self.log_path = os.path.join(log_dir or tempfile.mkdtemp(prefix="otter-peer-"), f"peer-{self.port}.log")
            with open(self.log_path, "w") as log:
                self.proc = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(self.port)],
                                             stdout=log, stderr=subprocess.STDOUT)
            wait_until_serving(self.proc, self.log_path, lambda: udp_echoes(self.port), what="turnutils_peer")
        start_on_free_ports(start)

    def stop(self):
        stop_process(self.proc)


class OtterUp:
    """One `otter up` process on chosen ports; its banner parsed into `lines`.

    `start()` waits for the banner line `until`; `restart()` starts again on the
    same ports and data dir; `stop(sig)` ends it with a signal and returns its
    exit status. stderr goes to `log` (data_dir/server.log unless given, or beside
    data_dir when that folder does not exist yet)."""

    attempts = 5

    def __init__(self, data_dir=None, args=(), port=None, relay_port=None, until="Sample room", log_path=None,
                 binary=None):
        self.data_dir = str(data_dir or tempfile.mkdtemp(prefix="otter-up-"))
        self.args = list(args)
        self.fixed_ports = port is not None or relay_port is not None
        self.port = port or free_port("tcp")
        self.relay = relay_port or free_port("both")  # the relay listens on UDP and TCP
        self.until = until
        self.binary = binary or otter_binary()
        if log_path is None:  # beside the data dir if `otter up` is to make that folder itself
            in_dir = os.path.isdir(self.data_dir)
            log_path = os.path.join(self.data_dir, "server.log") if in_dir else self.data_dir + ".server.log"
        self.log = open(log_path, "a")
        self.proc = None
        self.lines = {}
        self.output = []  # every stdout line, in order
        self.started_once = False

    def up_args(self):
        """The test's own `otter up` flags; a subclass may derive them from the ports."""
        return self.args

    def command(self):
        return [self.binary, "up", "--port", str(self.port), "--relay-port", str(self.relay),
                "--data-dir", self.data_dir, "--log-level", "warning", *self.up_args()]

    def start(self, timeout=60):
        # New ports only before the first successful start, and only if the test did not choose them.
        may_move = not self.fixed_ports and not self.started_once
        for attempt in range(self.attempts):
            log_start = self.log.tell()
            if self._launch(timeout):
                if attempt and not self.started_once:
                    self._key_from_file()
                self.started_once = True
                self.api = self.lines.get("API URL")
                return self
            with open(self.log.name) as f:
                f.seek(log_start)
                err = f.read()
            if may_move and attempt + 1 < self.attempts and any(m in err for m in PORT_TAKEN):
                self.port, self.relay = free_port("tcp"), free_port("both")
                continue
            raise AssertionError(f"otter up exited ({self.proc.returncode}) before its banner: "
                                 f"{''.join(self.output)[-1000:]}{err[-2000:]}")

    def _key_from_file(self):
        # The refused attempt had already made the key (it prints the key only when it makes it), so the
        # retry prints where it is stored: give the test the key, as the first start it asked for would.
        stored = self.lines.get("API key", "")
        if stored.startswith("stored in "):
            with open(stored.removeprefix("stored in ").split(" ")[0]) as f:
                self.lines["API key"] = f.read().strip()

    def log_offset(self):
        """Where the server log ends now: pass it to `log_since` to read what comes after."""
        self.log.flush()
        return os.path.getsize(self.log.name)

    def log_since(self, offset):
        """The server log (its stderr: swift-log lines) written after `offset`."""
        with open(self.log.name) as f:
            f.seek(offset)
            return f.read()

    def restart(self, timeout=60):
        self.stop()
        return self.start(timeout)

    def _launch(self, timeout):
        """True once the banner line `until` is read; False if the process exited first."""
        self.lines, self.output = {}, []
        self.log.flush()
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=self.log, text=True)
        seen = threading.Event()
        # Read in a thread, for as long as the process runs: a missing line fails the test instead of
        # blocking it, and output after the banner never fills the pipe.
        threading.Thread(target=self._read, args=(self.proc, seen), daemon=True).start()
        deadline = time.time() + timeout
        while not seen.wait(0.05):
            if self.proc.poll() is not None:
                seen.wait(1)  # the reader may still hold the last lines
                return seen.is_set()
            if time.time() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"otter up did not print {self.until!r} within {timeout} s: {self.lines}")
        return True

    def _read(self, proc, seen):
        for line in proc.stdout:
            self.output.append(line)
            if ": " in line:
                k, _, v = line.partition(": ")
                self.lines[k.strip()] = v.strip()
                if k.strip() == self.until:
                    seen.set()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Send `sig` and wait; returns the exit status (None if it was not running)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.log.flush()
            raise AssertionError(f"otter up did not stop within {timeout} s: " + open(self.log.name).read()[-3000:])

    def stderr(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()


class EcsTaskEndpoints:
    """The two endpoints an ECS task sees, on loopback: task metadata v4
    (`<base>/v4/task`: one container "relay" on `private_ip` in awsvpc mode) and
    the container credentials (`<base>/creds`, only with the task's
    Authorization `token`; a moto server's `key_id`/`secret`). Every request is
    recorded in `seen` as (path, Authorization). Point a task at it with
    ECS_CONTAINER_METADATA_URI_V4=`base`/v4 and AWS_CONTAINER_CREDENTIALS_FULL_URI=`base`/creds.
    A stand-in: no ECS runs here (moto has no task metadata endpoint)."""

    def __init__(self, moto, token, private_ip):
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.private_ip = private_ip
        self.seen = []
        endpoints = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                endpoints.seen.append((self.path, self.headers.get("Authorization")))
                if self.path == "/v4/task":
                    body = {"Cluster": "otter", "Containers": [{"Name": "relay", "Networks": [
                        {"NetworkMode": "awsvpc", "IPv4Addresses": [endpoints.private_ip]}]}]}
                elif self.path == "/creds" and self.headers.get("Authorization") == token:
                    body = {"AccessKeyId": moto.key_id, "SecretAccessKey": moto.secret,
                            "RoleArn": "arn:aws:iam::123456789012:role/relay", "Expiration": "2099-01-01T00:00:00Z"}
                else:
                    self.send_response(403)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self):
        self._server.shutdown()
        self._server.server_close()
