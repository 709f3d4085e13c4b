"""Test support shared by the Python suites: free ports and an `otter up` process.

A port found free is only free until someone else binds it, so `OtterUp` does
not pick a port and hope: when `otter up` refuses to start because a port is
taken ("Pick another --port" / "--relay-port"), it starts again on new ports.
Ports the test chose itself, and the ports of a restart, are kept as they are.
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


PORT_TAKEN = ("Pick another --port", "Pick another --relay-port")


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
