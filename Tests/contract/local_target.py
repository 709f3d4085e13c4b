"""Contract target: `otter up` started as a real process on free loopback ports.

The binary comes from OTTER_BIN (default .build/debug/otter). The API key is
read from the process's output; the signing and TURN secrets from the SQLite
state in its --data-dir, so the runner can mint expired or unknown-room tokens.
"""

import atexit
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from remote_target import RemoteTarget

ROOT = Path(__file__).resolve().parents[2]


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalTarget(RemoteTarget):
    receive_timeout = 5.0
    silence_timeout = 0.3

    def __init__(self):
        binary = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))
        self.data_dir = tempfile.mkdtemp(prefix="otter-contract-")
        port, relay = free_port(), free_port(socket.SOCK_DGRAM)
        self.proc = subprocess.Popen(
            [binary, "up", "--host", "127.0.0.1", "--port", str(port), "--relay-port", str(relay),
             "--data-dir", self.data_dir, "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        atexit.register(self.shutdown)
        lines = {}
        deadline = time.time() + 60
        while time.time() < deadline and "Sample room" not in lines:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"otter up exited early (status {self.proc.poll()})")
            if ": " in line:
                k, _, v = line.partition(": ")
                lines[k.strip()] = v.strip()
        api_url = lines["API URL"]
        key = lines["API key"]
        with sqlite3.connect(os.path.join(self.data_dir, "otter.sqlite")) as db:
            settings = dict(db.execute("SELECT key, value FROM settings"))
        super().__init__(api_url=api_url, signal_url=api_url.replace("http://", "ws://") + "/signal",
                         api_key=key, signing_secret=settings["signingSecret"], turn_secret=settings["turnSecret"])

    def shutdown(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
