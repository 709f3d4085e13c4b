"""The relay image's start-up contract on Fargate (Sources/OtterStacks/README.md):
`otter detect-external-ip` finds the task's public IP from the ECS task
metadata endpoint and EC2 DescribeNetworkInterfaces, signed with the task
role's container credentials; Templates/relay/docker-entrypoint.sh expands
`$(detect-external-ip)` and `$TURN_SECRET` and starts `otter relay` with them.

Real parts: moto's EC2 (signature checking on) holds a network interface with
an Elastic IP; the otter binary and the entrypoint script run for real. Fake
part, because ECS cannot run here: the task metadata and container credentials
endpoints are a small local HTTP server answering in ECS's documented shapes.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from moto_signed import MotoServer  # noqa: E402
from otter_testing import ADDRESS_IN_USE, EcsTaskEndpoints, PortTaken, free_port, start_on_free_ports, stop_process, wait_until_serving  # noqa: E402

PRIVATE_IP = "10.42.0.7"
TOKEN = "ecs-agent-token"


@pytest.fixture(scope="module")
def aws():
    with MotoServer(user="relaytask") as m:
        ec2 = m.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/24")["Subnet"]["SubnetId"]
        eni = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=PRIVATE_IP)["NetworkInterface"]["NetworkInterfaceId"]
        # A second interface without a public IP, as the lookup must pick the right one.
        ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.42.0.8")
        eip = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=eni)
        yield m, eip["PublicIp"]


@pytest.fixture
def ecs(aws):
    """The two ECS endpoints a task sees, on loopback."""
    moto, _ = aws
    endpoints = EcsTaskEndpoints(moto, TOKEN, PRIVATE_IP)
    yield endpoints, endpoints.base, endpoints.seen
    endpoints.close()


def task_env(moto, base, tmp_path, token=TOKEN):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("ECS_")}
    env.update(HOME=str(tmp_path), AWS_REGION="us-east-1", AWS_ENDPOINT_URL=moto.url,
               ECS_CONTAINER_METADATA_URI_V4=base + "/v4",
               AWS_CONTAINER_CREDENTIALS_FULL_URI=base + "/creds", AWS_CONTAINER_AUTHORIZATION_TOKEN=token)
    return env


def test_detect_external_ip_prints_the_task_public_ip(aws, ecs, tmp_path):
    moto, public_ip = aws
    _, base, seen = ecs
    r = subprocess.run([OTTER, "detect-external-ip"], env=task_env(moto, base, tmp_path), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == public_ip + "\n"  # only the address: it is used as $(detect-external-ip)
    assert ("/creds", TOKEN) in seen and ("/v4/task", None) in seen


def test_an_interface_without_public_ip_is_a_clear_error(aws, ecs, tmp_path):
    moto, _ = aws
    server, base, _ = ecs
    server.private_ip = "10.42.0.8"
    r = subprocess.run([OTTER, "detect-external-ip"], env=task_env(moto, base, tmp_path), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert "has no public IP" in r.stderr and "assignPublicIp" in r.stderr


def test_wrong_container_token_and_no_ecs_are_clear_errors(aws, ecs, tmp_path):
    moto, _ = aws
    _, base, _ = ecs
    r = subprocess.run([OTTER, "detect-external-ip"], env=task_env(moto, base, tmp_path, token="wrong"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "HTTP 403" in r.stderr and r.stdout == ""
    env = task_env(moto, base, tmp_path)
    del env["ECS_CONTAINER_METADATA_URI_V4"]
    r = subprocess.run([OTTER, "detect-external-ip"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "only works inside an ECS task" in r.stderr


def test_entrypoint_expands_the_task_arguments_like_coturns_image(aws, ecs, tmp_path):
    moto, public_ip = aws
    _, base, _ = ecs
    # The image's PATH: otter, detect-external-ip and the entrypoint side by side.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(OTTER, bin_dir / "otter")
    for name in ("docker-entrypoint.sh", "detect-external-ip"):
        shutil.copy(ROOT / "Templates/relay" / name, bin_dir / name)
    env = task_env(moto, base, tmp_path)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["TURN_SECRET"] = "s3cret-from-secrets-manager"
    log_path = tmp_path / "entrypoint.log"

    def start():
        port = free_port("both")
        # Exactly as the task definition passes them: unexpanded.
        args = ["-n", "--log-file=stdout", "--no-cli", "--no-tls", "--no-dtls",
                "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--use-auth-secret",
                "--static-auth-secret=$TURN_SECRET", "--realm=otter", "--external-ip=$(detect-external-ip)"]
        with open(log_path, "w") as log:
            proc = subprocess.Popen([str(bin_dir / "docker-entrypoint.sh"), *args], env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        wait_until_serving(proc, log_path, lambda: "otter relay listening" in log_path.read_text(),
                           what="docker-entrypoint.sh")
        return proc

    proc = start_on_free_ports(start)
    try:
        log = log_path.read_text()
        assert "otter relay listening" in log, log
        assert f"external-ip={public_ip}" in log
        assert "$TURN_SECRET" not in log and "s3cret" not in log
    finally:
        stop_process(proc)


def run_relay_until_listening(args, env):
    """Runs `otter relay ARGS` on a free port until it listens or exits; a port
    taken meanwhile is retried on a new one. Returns (exit status or None, output)."""
    def start():
        status, log = _run_relay_once([*args, f"--listening-port={free_port('both')}"], env)
        if status is not None and any(m in log for m in ADDRESS_IN_USE):
            raise PortTaken(log)
        return status, log
    return start_on_free_ports(start)


def _run_relay_once(args, env):
    proc = subprocess.Popen([OTTER, "relay", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, deadline = [], time.time() + 30
    try:
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                proc.wait(timeout=10)  # output closed: the relay exited
                break
            lines.append(line)
            if "otter relay listening" in line:
                break
        return proc.poll(), "".join(lines)
    finally:
        proc.kill()
        proc.wait()


def test_relay_finds_its_public_ip_and_secret_itself_without_a_shell(aws, ecs, tmp_path):
    moto, public_ip = aws
    _, base, seen = ecs
    env = task_env(moto, base, tmp_path)
    env["TURN_SECRET"] = "s3cret-from-secrets-manager"
    # What the relay image runs: no entrypoint script, no $(...) and no $TURN_SECRET in the arguments.
    args = ["-n", "--log-file=stdout", "--no-cli", "--no-tls", "--no-dtls",
            "--listening-ip=127.0.0.1", "--use-auth-secret", "--realm=otter", "--external-ip=auto"]
    status, log = run_relay_until_listening(args, env)
    assert status is None and "otter relay listening" in log, log
    assert f"external-ip={public_ip}" in log
    assert "s3cret" not in log
    assert ("/v4/task", None) in seen
    # Without TURN_SECRET the same arguments have no secret, and the relay says so.
    del env["TURN_SECRET"]
    status, log = run_relay_until_listening(args, env)
    assert status == 1 and "use-auth-secret needs at least one static-auth-secret" in log


def test_relay_external_ip_auto_outside_ecs_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECS_")}
    env["TURN_SECRET"] = "x"
    status, log = run_relay_until_listening(["--no-tls", "--use-auth-secret", "-X", "auto",
                                             "--listening-ip=127.0.0.1"], env)
    assert status == 1 and "external-ip=auto" in log and "ECS_CONTAINER_METADATA_URI_V4 is not set" in log, log


@pytest.mark.parametrize("arg", ["--static-auth-secret=$TURN_SECRET", "--external-ip=$(detect-external-ip)"])
def test_relay_refuses_shell_idioms_it_cannot_expand(arg, tmp_path):
    env = dict(os.environ, TURN_SECRET="x")
    status, log = run_relay_until_listening(["--no-tls", "--use-auth-secret", arg,
                                             "--listening-ip=127.0.0.1"], env)
    assert status == 1 and "runs without one" in log, log
