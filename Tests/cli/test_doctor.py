"""`otter doctor` against a real moto server with signature checking on."""

import os
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    port = free_port()
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.time() < deadline, "moto_server did not start"
            time.sleep(0.2)
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="doctor")
    iam.put_user_policy(UserName="doctor", PolicyName="all", PolicyDocument=
                        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
    key = iam.create_access_key(UserName="doctor")["AccessKey"]
    yield url, key["AccessKeyId"], key["SecretAccessKey"]
    proc.kill()


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
