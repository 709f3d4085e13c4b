"""`otter create-room`: the CLI checks what the server would refuse, and says
which API it talks to and why — passing over a local `otter up` that has
stopped for the only deployed stack.

The "deployed stack" here is a second `otter up` whose URL and key are saved as
`otter deploy` saves a stack's (`.otter/<stack>.json` + `.api-key`): the CLI
treats both alike, and no real API Gateway can run on this machine.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from otter_testing import OtterUp, RefusingPort, otter_binary  # noqa: E402

OTTER = otter_binary()


def otter(*args, cwd=None):
    return subprocess.run([OTTER, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.fixture(scope="module")
def running_up(tmp_path_factory):
    data = tmp_path_factory.mktemp("up")
    up = OtterUp(data).start()
    yield {"api": up.lines["API URL"], "key": up.lines["API key"], "data": data}
    up.stop()


def test_ttl_below_the_servers_bound_is_refused_before_any_call(tmp_path):
    r = otter("create-room", "--ttl", "1s", "--api-url", "http://127.0.0.1:9", "--api-key", "x")
    assert r.returncode != 0
    assert "--ttl must be from 1m to 30d" in r.stderr
    assert "could not reach" not in r.stderr


def test_ttl_above_the_servers_bound_is_refused(tmp_path):
    r = otter("create-room", "--ttl", "31d", "--api-url", "http://127.0.0.1:9", "--api-key", "x")
    assert r.returncode != 0 and "--ttl must be from 1m to 30d" in r.stderr


def test_says_which_api_it_uses(running_up, tmp_path):
    r = otter("create-room", "--api-url", running_up["api"], "--api-key", running_up["key"], "--json")
    assert r.returncode == 0, r.stderr
    assert f"using {running_up['api']} (--api-url)" in r.stderr
    assert json.loads(r.stdout)["maxPeers"] == 2  # the one default, as the sample room and the cloud API


def test_a_stopped_local_up_falls_through_to_the_only_deployed_stack(running_up, tmp_path):
    data = tmp_path / ".otter"
    data.mkdir()
    with RefusingPort() as port:
        _falls_through(running_up, data, f"http://127.0.0.1:{port}")


def _falls_through(running_up, data, dead):
    (data / "up.json").write_text(json.dumps({"apiUrl": dead}))
    (data / "api-key").write_text("stale-local-key\n")
    (data / "prod.json").write_text(json.dumps({
        "stack": "prod", "region": "eu-west-1", "account": "123456789012", "status": "DEPLOYED",
        "apiURL": running_up["api"], "artifactsBucket": "otter-prod-artifacts", "updatedAt": "2026-12-06T00:00:00Z"}))
    (data / "prod.api-key").write_text(running_up["key"] + "\n")
    r = otter("create-room", "--data-dir", str(data), "--json")
    assert r.returncode == 0, r.stderr
    assert f"the local `otter up` at {dead} is not running; using the deployed stack prod" in r.stderr
    assert json.loads(r.stdout)["roomId"]


def test_a_stopped_local_up_alone_says_to_start_it(tmp_path):
    data = tmp_path / ".otter"
    data.mkdir()
    with RefusingPort() as port:
        _says_to_start_it(data, f"http://127.0.0.1:{port}")


def _says_to_start_it(data, dead):
    (data / "up.json").write_text(json.dumps({"apiUrl": dead}))
    r = otter("create-room", "--data-dir", str(data))
    assert r.returncode == 1
    assert "is not running. Start it with `otter up`" in r.stderr
