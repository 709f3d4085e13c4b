"""The help a newcomer reads: nothing internal, each default said once, and
examples that stay whole in an 80-column terminal."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))


def otter(*args):
    env = dict(os.environ, COLUMNS="80")
    return subprocess.run([OTTER, *args], capture_output=True, text=True, timeout=60, env=env)


def test_internal_commands_are_not_in_the_top_level_help():
    r = otter("--help")
    assert r.returncode == 0
    assert "create-room" in r.stdout and "detect-external-ip" not in r.stdout


def test_help_states_each_default_once():
    r = otter("create-room", "--help")
    assert r.returncode == 0
    assert "(default 48h)" not in r.stdout and "(default: 48h)" in r.stdout


def test_relay_examples_are_not_wrapped_mid_option():
    r = otter("relay", "--help")
    assert r.returncode == 0
    assert "USAGE: otter relay" in r.stdout
    lines = r.stdout.splitlines()
    start = lines.index("Examples:")
    for line in lines[start + 1:]:
        if not line.strip():
            break
        assert line.startswith("  "), f"an example line was wrapped by the terminal width: {line!r}"
        assert len(line) <= 80
