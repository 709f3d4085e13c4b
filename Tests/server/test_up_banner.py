"""What `otter up` tells a newcomer: the next step after the links, that it
stopped on Ctrl-C, and links that other machines can open when it listens on
every interface (never `http://0.0.0.0:...`).

The every-interface cases run `otter up` in a network namespace of the test's
own: one that holds only loopback (nothing reachable: a clear refusal), and
one with a veth pair addressed from the documentation range 192.0.2.0/24."""

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from otter_testing import OtterUp, otter_binary  # noqa: E402

OTTER = otter_binary()


def test_banner_says_what_to_do_next_and_ctrl_c_says_it_stopped(tmp_path):
    up = OtterUp(tmp_path / "d", until="Next", log_path=tmp_path / "d.log")
    try:
        lines = up.start().lines
        assert "Sample room" in lines
        assert "two browser tabs" in lines["Next"] and "otter create-room" in lines["Next"] and "Ctrl-C" in lines["Next"]
        assert up.stop(signal.SIGINT, timeout=30) == 0
        assert "otter up stopped" in up.stderr()
    finally:
        if up.proc and up.proc.poll() is None:
            up.proc.kill()


def run_in_new_namespace(script, tmp_path, timeout=60):
    return subprocess.run(["unshare", "-n", "sh", "-ec", script], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, OTTER=OTTER, DATA=str(tmp_path / "d"),
                                   ALLOCATE=str(Path(__file__).with_name("allocate_once.py"))))


def test_every_interface_with_nothing_reachable_is_refused(tmp_path):
    r = run_in_new_namespace('ip link set lo up; exec "$OTTER" up --host 0.0.0.0 --data-dir "$DATA"', tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no address other machines can reach" in r.stderr and "--public-url" in r.stderr
    assert "0.0.0.0:" not in r.stdout


def test_every_interface_links_use_the_machines_address(tmp_path):
    script = """
ip link set lo up
ip link add otv0 type veth peer name otv1
ip addr add 192.0.2.10/24 dev otv0
ip link set otv0 up; ip link set otv1 up
"$OTTER" up --host 0.0.0.0 --port 18080 --relay-port 13478 --data-dir "$DATA" --log-level warning &
pid=$!
for i in $(seq 1 100); do grep -q '^Next' "$DATA.out" 2>/dev/null && break; sleep 0.3; done
python3 "$ALLOCATE" "$DATA.out" >> "$DATA.out"
kill -INT $pid; wait $pid
"""
    script = script.replace('--log-level warning &', '--log-level warning > "$DATA.out" 2> "$DATA.err" &')
    r = run_in_new_namespace(script, tmp_path, timeout=90)
    out = (tmp_path / "d.out").read_text()
    err = (tmp_path / "d.err").read_text()
    assert r.returncode == 0, r.stderr + err
    assert "API URL: http://192.0.2.10:18080" in out, out
    assert "turn:192.0.2.10:13478" in out
    # The relay announces that address too, not 0.0.0.0 (an Allocate from inside the namespace).
    assert "relayed 192.0.2.10" in out, out
    assert "://0.0.0.0" not in out and "turn:0.0.0.0" not in out
    assert "using 192.0.2.10 (otv0)" in err
