"""Scripts/loopback-only: the namespace the tests and benchmarks run in holds
loopback and nothing else, loopback works in it, and the command's exit status
comes back."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "Scripts" / "loopback-only"

PROBE = """
import socket
names = [n for _, n in socket.if_nameindex()]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.sendto(b"ping", s.getsockname())
s.settimeout(5)
print(",".join(names), s.recv(16).decode())
"""


def run(*cmd):
    # a fresh namespace even when this test itself runs inside one (as in Scripts/test)
    env = {k: v for k, v in os.environ.items() if k != "OTTER_LOOPBACK_ONLY"}
    return subprocess.run([str(SCRIPT), *cmd], env=env, capture_output=True, text=True, timeout=60)


def test_only_loopback_is_there_and_it_is_up():
    r = run("python3", "-c", PROBE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["lo", "ping"]


def test_the_command_exit_status_comes_back():
    assert run("sh", "-c", "exit 3").returncode == 3


def test_inside_the_namespace_it_runs_the_command_as_is():
    env = dict(os.environ, OTTER_LOOPBACK_ONLY="1")
    r = subprocess.run([str(SCRIPT), "sh", "-c", "echo $OTTER_LOOPBACK_ONLY"], env=env, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout.strip()) == (0, "1")
