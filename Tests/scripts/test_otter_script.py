"""Scripts/otter skips the release build when the binary is newer than every
source (a no-op `swift build -c release` still costs ~30 s of planning).

A release build takes many minutes here, so `swift` is a stand-in on PATH that
records its arguments and writes an executable `otter`; Scripts/setup is a
stand-in too (it would apt-get). What is under test is the script's own choice.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_checkout(tmp: Path) -> Path:
    repo = tmp / "repo"
    (repo / "Scripts").mkdir(parents=True)
    (repo / "Sources" / "otter").mkdir(parents=True)
    shutil.copy(ROOT / "Scripts" / "otter", repo / "Scripts" / "otter")
    (repo / "Scripts" / "setup").write_text("#!/bin/sh\nexit 0\n")
    (repo / "Scripts" / "setup").chmod(0o755)
    (repo / "Package.swift").write_text("// manifest\n")
    (repo / "Sources" / "otter" / "main.swift").write_text("print(1)\n")
    fake = tmp / "bin"
    fake.mkdir()
    (fake / "swift").write_text(
        "#!/bin/sh\n"
        'echo "$@" >> "$SWIFT_LOG"\n'
        "mkdir -p .build/release\n"
        "printf '#!/bin/sh\\necho ran \"$@\"\\n' > .build/release/otter\n"
        "chmod +x .build/release/otter\n"
        # `swift build -c release` builds every product: otter-relay too.
        "cp .build/release/otter .build/release/otter-relay\n"
    )
    (fake / "swift").chmod(0o755)
    return repo


def run(repo: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{tmp / 'bin'}:{os.environ['PATH']}", SWIFT_LOG=str(tmp / "swift.log"))
    return subprocess.run([str(repo / "Scripts" / "otter"), *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=30)


def builds(tmp: Path) -> int:
    log = tmp / "swift.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_builds_once_then_skips_until_a_source_changes(tmp_path):
    repo = make_checkout(tmp_path)
    first = run(repo, tmp_path, "version")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "ran version"
    assert builds(tmp_path) == 1

    second = run(repo, tmp_path, "version")
    assert second.returncode == 0, second.stderr
    assert builds(tmp_path) == 1, "a second start with nothing changed must not run swift build"
    assert "not rebuilding" in second.stderr

    time.sleep(1.1)  # mtime resolution of some file systems is 1 s
    (repo / "Sources" / "otter" / "main.swift").write_text("print(2)\n")
    third = run(repo, tmp_path, "version")
    assert third.returncode == 0, third.stderr
    assert builds(tmp_path) == 2, "a changed source must be rebuilt"


def test_a_missing_otter_relay_is_built_again(tmp_path):
    # `otter relay` execs otter-relay from beside otter: an otter without it must not count as built.
    repo = make_checkout(tmp_path)
    assert run(repo, tmp_path, "version").returncode == 0
    (repo / ".build" / "release" / "otter-relay").unlink()
    again = run(repo, tmp_path, "version")
    assert again.returncode == 0, again.stderr
    assert builds(tmp_path) == 2
    assert (tmp_path / "swift.log").read_text().splitlines()[-1] == "build -c release"
    assert (repo / ".build" / "release" / "otter-relay").exists()


def test_no_arguments_runs_up(tmp_path):
    repo = make_checkout(tmp_path)
    out = run(repo, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ran up"
