"""The relay image `otter relay-image` builds without Docker (Sources/OtterImage).

Real parts: the otter binary builds the OCI layout; umoci (an independent OCI
implementation) checks every digest while unpacking it; the relay then runs
from the unpacked root file system alone — unshare --root into it with a fresh /proc, as the
image's user (65532), with no environment but what ECS would inject — and coturn's
turnutils_uclient relays a round trip through it. The start-up test also uses
moto's EC2 (signature checking on). Fake part, because ECS cannot run here: the
task metadata and container credentials endpoints are a small local HTTP
server answering in ECS's documented shapes (see Tests/relay/test_detect_external_ip.py).

The push test deploys against moto (ECR's API, CloudFormation, signature checking on) and a
real registry, Debian's docker-registry: moto has no registry endpoint, so OTTER_REGISTRY_URL
(the documented override, as AWS_ENDPOINT_URL is for the API) sends the registry calls to it.
skopeo pulls the image back by the digest deploy put in the template.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from local_registry import LocalRegistry  # noqa: E402
from moto_signed import MotoServer  # noqa: E402
from otter_testing import EcsTaskEndpoints, free_port  # noqa: E402

SECRET = "image-secret"
TOKEN = "ecs-agent-token"
PRIVATE_IP = "10.42.0.7"
IMAGE_USER = "65532:65532"


def build_layout(out, cache):
    """`otter relay-image`, with its image cache (shared with `otter deploy`) in `cache`."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    r = subprocess.run([OTTER, "relay-image", "--out", str(out)], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    digest = r.stdout.strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), r.stdout
    return digest


def blob(layout, digest):
    return (layout / "blobs/sha256" / digest.split(":", 1)[1]).read_bytes()


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The layout, built once, and its root file system as umoci unpacks it."""
    base = tmp_path_factory.mktemp("image")
    layout = base / "layout"
    digest = build_layout(layout, base / "cache")
    bundle = base / "bundle"
    r = subprocess.run(["umoci", "unpack", "--image", f"{layout}:latest", str(bundle)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    manifest = json.loads(blob(layout, digest))
    config = json.loads(blob(layout, manifest["config"]["digest"]))
    return {"layout": layout, "digest": digest, "rootfs": bundle / "rootfs", "manifest": manifest, "config": config,
            "cache": base / "cache"}


def test_the_image_is_linux_amd64_running_otter_relay_as_a_non_root_user(image):
    config = image["config"]
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert config["config"]["Entrypoint"] == ["/otter", "relay"]
    assert config["config"]["User"] == IMAGE_USER
    assert {"3478/udp", "3478/tcp"} <= set(config["config"]["ExposedPorts"])
    rootfs = image["rootfs"]
    assert "otter:x:65532:65532:" in (rootfs / "etc/passwd").read_text()
    assert (rootfs / "etc/ssl/certs/ca-certificates.crt").read_bytes() == Path("/etc/ssl/certs/ca-certificates.crt").read_bytes()
    # No shell and no package manager: only the binary, what it loads, and three data files.
    assert not (rootfs / "bin/sh").exists() and not (rootfs / "usr/bin").exists()
    # The binary is the one that built the image: its loaded part byte for byte, with the
    # section header fields (e_shoff, e_shnum, e_shstrndx) zeroed and the tail (debug info) cut.
    # The same holds for otter-relay, the relay-only binary built beside otter, which
    # `otter relay` execs (Sources/otter/LeanRelay.swift).
    for name in ("otter", "otter-relay"):
        ours, original = (rootfs / name).read_bytes(), (Path(OTTER).resolve().parent / name).read_bytes()
        assert len(ours) < len(original)
        assert ours[:40] == original[:40] and ours[48:60] == original[48:60] and ours[64:] == original[64:len(ours)]
        assert ours[40:48] == bytes(8) and ours[60:64] == bytes(4)


def test_skopeo_reads_the_layout(image):
    r = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{image['layout']}:latest"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "sha256:" + hashlib.sha256(r.stdout.encode()).hexdigest() == image["digest"]


def test_building_again_gives_the_same_digests(image, tmp_path):
    again = build_layout(tmp_path / "again", tmp_path / "empty-cache")  # built anew, not read from the cache
    assert again == image["digest"]
    assert sorted(p.name for p in (tmp_path / "again/blobs/sha256").iterdir()) == \
        sorted(p.name for p in (image["layout"] / "blobs/sha256").iterdir())


def relay_in_image(rootfs, args, env, log):
    """`otter relay` inside the unpacked image alone: its root file system as /, a fresh /proc
    (as every container runtime mounts one), the image's user, the given environment only."""
    uid, gid = IMAGE_USER.split(":")
    # unshare found here: the relay's environment has no PATH.
    cmd = [shutil.which("unshare"), "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
           f"--root={rootfs}", f"--setgid={gid}", f"--setuid={uid}", "/otter", "relay", *args]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def relay_executable(proc):
    """The executable the relay started by relay_in_image runs (unshare's child), as this
    host sees it: `/otter relay` execs /otter-relay in its own place."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 1, children
    return os.readlink(f"/proc/{children[0]}/exe")


def stop_relay_in_image(proc):
    """Ends the relay and unshare. --kill-child alone does not: unshare's --setuid clears the
    child's parent-death signal (prctl(2): a credential change resets it), so the relay would
    outlive unshare, still bound to its port."""
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            os.kill(int(child), signal.SIGKILL)
        except ProcessLookupError:
            pass
    # unshare waits out SIGTERM; SIGKILL ends it.
    proc.kill()
    proc.wait(timeout=10)


def wait_listening(proc, log_path, deadline=30):
    end = time.time() + deadline
    while time.time() < end:
        text = log_path.read_text()
        if "otter relay listening" in text:
            return text
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail("relay in the image did not start:\n" + log_path.read_text())


@pytest.fixture
def echo_peer():
    port = free_port("both")
    proc = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


# Over TCP too: the image runs unprivileged, which once closed every TCP client
# (Tests/relay/test_relay_interop.py::test_uclient_relays_through_a_relay_running_unprivileged).
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_the_relay_runs_from_the_unpacked_image_alone(image, echo_peer, tmp_path, transport):
    relayed_round_trip(image["rootfs"], echo_peer, tmp_path, transport)


def relayed_round_trip(rootfs, echo_peer, tmp_path, transport="udp"):
    """`otter relay` from `rootfs` alone; turnutils_uclient relays 80 messages through it to the echo peer."""
    port = free_port("both")
    log_path = tmp_path / "relay.log"
    # The secret comes from the environment, as ECS injects it from Secrets Manager; nothing else is set.
    args = [f"--listening-port={port}", "--listening-ip=127.0.0.1", "--use-auth-secret", "--realm=otter.test",
            "--no-tls", "--no-cli", "--allow-loopback-peers", "--min-port=20000", "--max-port=29999", "--log-file=stdout"]
    with open(log_path, "w") as log:
        proc = relay_in_image(rootfs, args, {"TURN_SECRET": SECRET}, log)
    try:
        wait_listening(proc, log_path)
        assert relay_executable(proc) == str(rootfs / "otter-relay")
        cmd = ["turnutils_uclient", "-e", "127.0.0.1", "-r", str(echo_peer), "-p", str(port),
               "-W", SECRET, "-m", "2", "-n", "40", "-l", "170", *(["-t"] if transport == "tcp" else []), "127.0.0.1"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        out = r.stdout + r.stderr
        assert re.search(r"tot_send_msgs=80, tot_recv_msgs=80\s*$", out, re.M), out[-2000:]
        assert re.search(r"Total lost packets 0\b", out), out[-2000:]
    finally:
        stop_relay_in_image(proc)
    assert SECRET not in log_path.read_text()


@pytest.fixture
def ecs():
    """moto's EC2 holding the task's interface with a public IP, and the two ECS endpoints a task sees."""
    with MotoServer(user="relaytask") as moto:
        ec2 = moto.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/24")["Subnet"]["SubnetId"]
        eni = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=PRIVATE_IP)["NetworkInterface"]["NetworkInterfaceId"]
        eip = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=eni)

        endpoints = EcsTaskEndpoints(moto, TOKEN, PRIVATE_IP)
        base = endpoints.base
        env = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.url, "ECS_CONTAINER_METADATA_URI_V4": base + "/v4",
               "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
               "TURN_SECRET": SECRET}
        yield env, eip["PublicIp"]
        endpoints.close()


def stun_binding(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        tid = os.urandom(12)
        s.sendto(b"\x00\x01\x00\x00\x21\x12\xa4\x42" + tid, ("127.0.0.1", port))
        data, _ = s.recvfrom(2048)
        return data[:2] == b"\x01\x01" and data[8:20] == tid
    finally:
        s.close()


def test_the_images_own_command_finds_the_public_ip_and_secret_without_a_shell(image, ecs, tmp_path):
    env, public_ip = ecs
    # Exactly what a task with no command override runs: Entrypoint + Cmd from the config.
    cmd = image["config"]["config"]["Cmd"]
    assert "--external-ip=auto" in cmd and not any("$" in a for a in cmd)
    log_path = tmp_path / "relay.log"
    with open(log_path, "w") as log:
        proc = relay_in_image(image["rootfs"], cmd, env, log)
    try:
        text = wait_listening(proc, log_path)
        assert f"external-ip={public_ip}" in text
        # The address came from the full otter (task metadata, EC2 over libcurl); the relay
        # serving with it is otter-relay, which maps none of that.
        assert relay_executable(proc) == str(image["rootfs"] / "otter-relay")
        port = int(next(a.split("=", 1)[1] for a in cmd if a.startswith("--listening-port=")))
        assert stun_binding(port)
    finally:
        stop_relay_in_image(proc)
    assert SECRET not in log_path.read_text()


DIGEST_REF = re.compile(r"^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/(otter/[a-z0-9./-]+/relay)@(sha256:[0-9a-f]{64})$")


def deploy_env(moto, home, registry, cache):
    # The image cache the fixture's `otter relay-image` filled: deploy reads the same image
    # from it instead of building it again (a debug binary takes minutes on a loaded machine).
    return moto.env(home, OTTER_POLL_SECONDS="0.2", OTTER_REGISTRY_URL=registry.url, XDG_CACHE_HOME=str(cache))


def test_deploy_pushes_the_image_it_runs_and_destroy_removes_the_repository(image, echo_peer, tmp_path):
    """deploy with no --relay-image: builds the image from the otter binary, creates the
    stack's ECR repository (tagged), pushes to a real registry, pins the digest in the
    template; the image pulled back runs the relay. A redeploy pushes nothing; destroy
    removes the repository."""
    stack = "imgpush"
    with MotoServer(user="imagepusher") as moto, LocalRegistry(tmp_path / "registry") as registry:
        env = deploy_env(moto, tmp_path, registry, image["cache"])
        run = lambda *a: subprocess.run([OTTER, *a, "--data-dir", str(tmp_path / ".otter")], env=env, cwd=ROOT,
                                        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        r = run("deploy", "--yes", "--stack", stack)
        assert r.returncode == 0, r.stdout + r.stderr
        cfn, ecr = moto.client("cloudformation"), moto.client("ecr")
        params = {p["ParameterKey"]: p["ParameterValue"] for p in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]}
        ref = params["RelayImage"]
        m = DIGEST_REF.match(ref)
        assert m, ref
        repo_name, digest = m.group(1), m.group(2)
        # the same binary gives the same image `otter relay-image` writes
        assert digest == image["digest"]
        assert f"Relay image: {ref} (" in r.stdout and "pushed 2 blob(s)" in r.stdout, r.stdout

        # the repository: Otter's, tagged like the artifacts bucket, created before the stack
        repo = ecr.describe_repositories(repositoryNames=[repo_name])["repositories"][0]
        assert repo["repositoryUri"] == ref.split("@")[0]
        tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]}
        assert tags == {"otter:stack": stack, "otter:role": "relay-image"}
        assert repo["imageTagMutability"] == "IMMUTABLE"
        out = r.stdout
        assert out.index("Relay image repository:") < out.index(f"Stack {stack}: creating"), out

        # the template deploy used: the image by digest, no shell needed, pull grant on that repository only
        body = cfn.get_template(StackName=stack)["TemplateBody"]
        template = json.loads(body) if isinstance(body, str) else body
        container = template["Resources"]["RelayTask"]["Properties"]["ContainerDefinitions"][0]
        assert "--external-ip=auto" in container["Command"] and not any("$" in a for a in container["Command"])
        assert template["Parameters"]["RelayImage"]["Default"] == ref
        # cfn-lint stays clean on this variant too (Tests/stacks lints what `otter template` makes)
        deployed = tmp_path / "deployed.json"
        deployed.write_text(json.dumps(template))
        lint = subprocess.run([shutil.which("cfn-lint") or "/root/.pyenv/shims/cfn-lint", "--format", "json", str(deployed)],
                              capture_output=True, text=True, timeout=300)
        assert json.loads(lint.stdout or "null") == [], lint.stdout + lint.stderr

        # pull it back from the registry by that digest (skopeo, an independent client), run it
        pulled = tmp_path / "pulled"
        r2 = subprocess.run(["skopeo", "copy", "--src-tls-verify=false", f"docker://127.0.0.1:{registry.port}/{repo_name}@{digest}",
                             f"oci:{pulled}:relay"], capture_output=True, text=True, timeout=300)
        assert r2.returncode == 0, r2.stderr
        index = json.loads((pulled / "index.json").read_text())
        assert [d["digest"] for d in index["manifests"]] == [digest]
        bundle = tmp_path / "bundle"
        r3 = subprocess.run(["umoci", "unpack", "--image", f"{pulled}:relay", str(bundle)], capture_output=True, text=True, timeout=300)
        assert r3.returncode == 0, r3.stderr
        relayed_round_trip(bundle / "rootfs", echo_peer, tmp_path)

        # a second deploy of the same binary: HEADs only, the same digest, up to date
        mark = registry.mark()
        r = run("deploy", "--yes", "--stack", stack)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "already in the registry, nothing pushed" in r.stdout and "up to date" in r.stdout, r.stdout
        sent = registry.requests(since=mark)
        assert sent and {method for method, _ in sent} == {"HEAD"}, sent
        params = {p["ParameterKey"]: p["ParameterValue"] for p in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]}
        assert params["RelayImage"] == ref

        # destroy removes the repository and says so
        r = run("destroy", "--yes", "--stack", stack)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"Relay image repository {repo_name} deleted" in r.stdout, r.stdout
        assert [x["repositoryName"] for x in ecr.describe_repositories()["repositories"]] == []
