"""`otter doctor` against a real moto server with signature checking on."""

import os
import sys
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))


sys.path.insert(0, str(ROOT / "Tests" / "support"))
from moto_signed import MotoServer  # noqa: E402


@pytest.fixture(scope="module")
def moto():
    with MotoServer(user="doctor") as m:
        yield m.url, m.key_id, m.secret


def doctor(url, key_id, secret, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret,
               AWS_REGION="eu-west-1", AWS_ENDPOINT_URL=url)
    return subprocess.run([OTTER, "doctor"], env=env, capture_output=True, text=True, timeout=60)


def test_doctor_prints_the_account(moto, tmp_path):
    url, key_id, secret = moto
    r = doctor(url, key_id, secret, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Account:     123456789012" in r.stdout
    assert "user/doctor" in r.stdout
    assert "eu-west-1 (from AWS_REGION)" in r.stdout
    assert f"{url} (AWS_ENDPOINT_URL)" in r.stdout


def test_doctor_explains_a_wrong_secret(moto, tmp_path):
    url, key_id, _ = moto
    r = doctor(url, key_id, "not-the-secret", tmp_path)
    assert r.returncode == 1
    assert "SignatureDoesNotMatch" in r.stderr
    assert "secret is wrong" in r.stderr


def test_doctor_explains_missing_credentials(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)
    r = subprocess.run([OTTER, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "AWS_ACCESS_KEY_ID" in r.stderr and "~/.aws/credentials" not in r.stdout


def test_doctor_reads_credentials_from_HOME_like_the_aws_cli(moto, tmp_path):
    """The AWS CLI and SDKs find ~/.aws through $HOME, not the password database
    (https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html)."""
    url, key_id, secret = moto
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    (aws / "config").write_text("[default]\nregion = eu-central-1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_ENDPOINT_URL=url)
    r = subprocess.run([OTTER, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "user/doctor" in r.stdout
    assert "eu-central-1" in r.stdout
