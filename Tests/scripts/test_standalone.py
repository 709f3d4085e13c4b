"""The repository stands on its own: a clone into an empty folder has the
contract and every fixture its tests read, and nothing it tracks reaches
outside it (the tree it was first built beside had a folder of shared material next to it)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def test_nothing_tracked_refers_outside_the_repository():
    offenders = []
    for path in tracked_files():
        if path.suffix in {".png", ".svg", ".zip"} or "Fixtures/aws-sigv4-testsuite" in str(path) or path == Path(__file__):
            continue
        try:
            text = path.read_text(errors="ignore")
        except (IsADirectoryError, FileNotFoundError):
            continue
        if "../" + "shared" in text or "/work/" + "shared" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these files refer to a folder outside the repository: {offenders}"


def test_the_contract_and_the_sigv4_vectors_are_in_the_repository():
    assert (ROOT / "docs" / "DESIGN.md").read_text().startswith("# Otter — design")
    suite = ROOT / "Tests" / "OtterAWSTests" / "Fixtures" / "aws-sigv4-testsuite"
    assert (suite / "README.md").exists()
    assert (suite / "botocore-aws4" / "LICENSE").exists() and (suite / "aws-c-auth" / "LICENSE").exists()
    assert len(list((suite / "botocore-aws4").rglob("*.req"))) >= 30
    assert len([d for d in (suite / "aws-c-auth" / "v4").iterdir() if d.is_dir()]) >= 38
