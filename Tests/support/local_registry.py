"""Debian's docker-registry (the CNCF distribution server) on a loopback port of its own:
a throwaway config and storage, `addr: 127.0.0.1:0` (it logs the port it got, so no port
is picked and hoped for). Its log has one "response completed" line per request, which is
how a test sees what a client sent.

    from local_registry import LocalRegistry
    with LocalRegistry(tmp_path) as r: ... r.url, r.port, r.requests(since=r.mark())
"""

import re
import subprocess
import time
from pathlib import Path

CONFIG = """version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: {root}
http:
  addr: 127.0.0.1:0
"""


class LocalRegistry:
    def __init__(self, directory):
        self.dir = Path(directory)

    def __enter__(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self.dir / "config.yml"
        config.write_text(CONFIG.format(root=self.dir / "data"))
        self.log_path = self.dir / "registry.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log_path.read_text())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                raise RuntimeError("docker-registry did not start (Scripts/setup installs it):\n" + self.log_path.read_text())
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def mark(self):
        """A position in the log: `requests(since=...)` lists what came after it."""
        return len(self.log_path.read_text().splitlines())

    def requests(self, since=0):
        """(method, uri) of every request the registry answered, in order."""
        out = []
        for line in self.log_path.read_text().splitlines()[since:]:
            if "response completed" not in line:
                continue
            m = re.search(r"http\.request\.method=(\S+)", line)
            u = re.search(r'http\.request\.uri=("[^"]+"|\S+)', line)  # quoted only when it needs to be
            if m and u:
                out.append((m.group(1), u.group(1).strip('"')))
        return out
