"""Contract target: `otter up` started as a real process on free loopback ports.

The binary comes from OTTER_BIN (default .build/debug/otter). The API key is
read from the process's output; the signing and TURN secrets from the SQLite
state in its --data-dir, so the runner can mint expired or unknown-room tokens.
"""

import atexit
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from remote_target import RemoteTarget

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from otter_testing import OtterUp  # noqa: E402


class LocalTarget(RemoteTarget):
    receive_timeout = 5.0
    silence_timeout = 0.3

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="otter-contract-")
        self.up = OtterUp(self.data_dir, args=["--host", "127.0.0.1"])
        atexit.register(self.shutdown)
        try:
            lines = self.up.start().lines
        except AssertionError as e:
            raise SystemExit(str(e))
        api_url = lines["API URL"]
        key = lines["API key"]
        with sqlite3.connect(os.path.join(self.data_dir, "otter.sqlite")) as db:
            settings = dict(db.execute("SELECT key, value FROM settings"))
        super().__init__(api_url=api_url, signal_url=api_url.replace("http://", "ws://") + "/signal",
                         api_key=key, signing_secret=settings["signingSecret"], turn_secret=settings["turnSecret"])

    def shutdown(self):
        self.up.stop(timeout=10)
