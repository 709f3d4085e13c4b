"""`otter relay` runs the relay-only `otter-relay` built beside it (Sources/otter-relay):
it execs it in its own place (same pid, so a supervisor's signals reach the relay), and
falls back to running the relay itself when otter-relay is not there or
OTTER_RELAY_IN_PROCESS=1. Why: an idle relay then holds none of the CLI's, server's and AWS
code's pages (docs/BENCHMARKS.md, goal 3: idle RSS within coturn's + 10 MB).

Real parts: the otter and otter-relay binaries, a TURN client written from the RFCs
(Tests/relay/turn_client.py) allocating with TURN REST credentials from TURN_SECRET.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import otter_binary
import otter_testing
from otter_testing import stun_binding_ok
from turn_client import TurnClient, rest_credentials

SECRET = "process-secret"


def lean_beside(otter):
    return Path(os.path.realpath(otter)).parent / "otter-relay"


def start(otter, tmp_path, env_extra=()):
    """`<otter> relay` on 127.0.0.1 with its secret in TURN_SECRET only; (process, port)."""
    def attempt():
        port = otter_testing.free_port("both")
        log_path = tmp_path / f"relay-{port}.log"
        env = {k: v for k, v in os.environ.items() if k != "OTTER_RELAY_IN_PROCESS"}
        env.update({"TURN_SECRET": SECRET, **dict(env_extra)})
        with open(log_path, "w") as log:
            proc = subprocess.Popen([otter, "relay", "--listening-ip=127.0.0.1", f"--listening-port={port}", "--realm=otter.test",
                                     "--use-auth-secret", "--no-tls", "--no-cli", "--allow-loopback-peers",
                                     "--min-port=30000", "--max-port=39999"],
                                    stdout=log, stderr=subprocess.STDOUT, env=env)
        otter_testing.wait_until_serving(proc, log_path, lambda: stun_binding_ok(port), timeout=30, what="otter relay")
        return proc, port, log_path
    return otter_testing.start_on_free_ports(attempt)


def allocates(port):
    user, password = rest_credentials(SECRET, "process")
    c = TurnClient(port, user, password)
    try:
        return c.allocate().success
    finally:
        c.close()


@pytest.fixture
def otter():
    path = otter_binary()
    if not lean_beside(path).exists():
        pytest.fail(f"{lean_beside(path)} is missing: `swift build` (or --product otter-relay) builds it beside otter")
    return path


def test_otter_relay_becomes_otter_relay_in_its_own_place_with_the_secret_off_its_command_line(otter, tmp_path):
    proc, port, log_path = start(otter, tmp_path)
    try:
        exe = os.readlink(f"/proc/{proc.pid}/exe")
        assert exe == str(lean_beside(otter)), exe
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1] == b"relay" and not any(SECRET.encode() in a for a in cmdline), cmdline
        assert allocates(port)
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    finally:
        otter_testing.stop_process(proc)
    assert SECRET not in log_path.read_text()


def test_in_process_on_request_and_without_otter_relay_beside(otter, tmp_path):
    proc, port, _ = start(otter, tmp_path, {"OTTER_RELAY_IN_PROCESS": "1"})
    try:
        assert os.readlink(f"/proc/{proc.pid}/exe") == os.path.realpath(otter)
        assert allocates(port)
    finally:
        otter_testing.stop_process(proc)

    # otter alone in a directory (a hard link where the file system allows it: the debug binary is large).
    alone = tmp_path / "bin"
    alone.mkdir()
    try:
        os.link(os.path.realpath(otter), alone / "otter")
    except OSError:
        shutil.copy2(os.path.realpath(otter), alone / "otter")
    proc, port, log_path = start(str(alone / "otter"), tmp_path)
    try:
        assert os.readlink(f"/proc/{proc.pid}/exe") == str(alone / "otter")
        assert allocates(port)
    finally:
        otter_testing.stop_process(proc)
    # It found no otter-relay to exec (and so did not try one and warn).
    assert "cannot run" not in log_path.read_text()


def test_otter_relay_alone_refuses_external_ip_auto_and_names_otter_relay(otter):
    r = subprocess.run([str(lean_beside(otter)), "relay", "--external-ip=auto", "--no-tls"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "external-ip=auto is resolved by `otter relay`" in r.stderr, r.stderr


def mapped_libraries(pid):
    return {Path(line.split()[-1]).name for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
            if len(line.split()) >= 6 and ".so" in line.split()[-1]}


FOUNDATION_PROPER = {"libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so"}


def test_the_relay_only_process_maps_no_foundation_proper_and_no_icu(otter, tmp_path):
    """The idle-RSS goal rests on this: Foundation proper, its internationalisation and ICU
    were ~9 MB of an idle relay's resident pages (docs/BENCHMARKS.md, goal 3). The relay
    imports FoundationEssentials only; `otter` itself (in-process) still maps all three,
    which shows the check can see them."""
    proc, port, _ = start(otter, tmp_path)
    try:
        assert allocates(port)
        libs = mapped_libraries(proc.pid)
        assert "libFoundationEssentials.so" in libs, sorted(libs)
        assert not (libs & FOUNDATION_PROPER), sorted(libs & FOUNDATION_PROPER)
    finally:
        otter_testing.stop_process(proc)

    proc, port, _ = start(otter, tmp_path, {"OTTER_RELAY_IN_PROCESS": "1"})
    try:
        assert FOUNDATION_PROPER <= mapped_libraries(proc.pid)
    finally:
        otter_testing.stop_process(proc)


def test_log_file_keeps_what_was_there_and_appends_timestamped_lines(otter, tmp_path):
    log = tmp_path / "turn.log"
    log.write_text("line from an earlier run\n")
    port = otter_testing.free_port("both")
    proc = subprocess.Popen([str(lean_beside(otter)), "relay", "--listening-ip=127.0.0.1", f"--listening-port={port}",
                             "--realm=otter.test", "--use-auth-secret", "--no-tls", "--no-cli", f"--log-file={log}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TURN_SECRET": SECRET})
    try:
        otter_testing.wait_until_serving(proc, log, lambda: stun_binding_ok(port), timeout=30, what="otter-relay")
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    finally:
        otter_testing.stop_process(proc)
    lines = log.read_text().splitlines()
    assert lines[0] == "line from an earlier run"
    listening = [l for l in lines[1:] if "otter relay listening" in l]
    assert listening, lines
    # An ISO 8601 UTC timestamp, the level and the logger's label lead each line.
    stamp, level, label = listening[0].split(" ")[:3]
    assert len(stamp) == 20 and stamp[4] == "-" and stamp[10] == "T" and stamp.endswith("Z"), stamp
    assert level == "info" and label == "otter.relay:", listening[0]
    assert SECRET not in log.read_text()


def test_log_file_that_cannot_be_opened_is_a_clear_error(otter, tmp_path):
    r = subprocess.run([str(lean_beside(otter)), "relay", "--listening-ip=127.0.0.1", "--no-tls", "--use-auth-secret",
                        f"--log-file={tmp_path}/missing-dir/turn.log"],
                       capture_output=True, text=True, timeout=30, env={**os.environ, "TURN_SECRET": SECRET})
    assert r.returncode == 1
    assert f"cannot open log file '{tmp_path}/missing-dir/turn.log' for writing: No such file or directory" in r.stderr, r.stderr
