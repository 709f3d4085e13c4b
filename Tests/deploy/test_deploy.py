"""`otter deploy` / `otter destroy` against a real moto server (Scripts/moto-server,
which adds CloudFormation models for the types moto lacks) with SigV4 signature
checking on. Every check of what was created uses boto3, not Otter's own client.

moto cannot run the Lambda handlers or serve the APIs it creates (their URLs
are AWS host names), so the sample room step is expected to say the API did
not answer; the handlers themselves are tested in Tests/lambda and Tests/contract.
"""

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build/debug/otter"))
REGION = "us-east-1"


sys.path.insert(0, str(ROOT / "Tests" / "support"))
from moto_signed import MotoServer  # noqa: E402


@pytest.fixture(scope="module")
def moto():
    with MotoServer(user="deployer", region=REGION) as m:
        yield m


def aws(moto, service):
    return moto.client(service)


# Without --relay-image, deploy builds the relay image from the otter binary and pushes it to
# ECR: moto has no registry to push to, and that path has its own test against a real registry
# (Tests/image/test_relay_image.py). These tests deploy coturn's pinned image, as a user may.
PINNED_RELAY = ("--relay-image", "coturn/coturn:4.6.3")


def otter(moto, tmp_path, *args, secret=None, timeout=240, stdin=None):
    env = moto.env(tmp_path, secret=secret, OTTER_POLL_SECONDS="0.2")
    if args and args[0] == "deploy" and "--relay-image" not in args:
        args = (*args, *PINNED_RELAY)
    return subprocess.run([OTTER, *args, "--data-dir", str(tmp_path / ".otter")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL)


TLS_HINT = "TURN over TLS needs a domain: otter deploy --domain turn.example.com --certificate-arn ARN"


def expected_relay_summary(cfn, stack, outputs):
    """What the deploy summary should say about the relay, from the deployed
    stack itself: the TurnUrls output when the template has it (else URLs from
    RelayHost) and the quotas in the template's Otter.options metadata."""
    if outputs.get("TurnUrls"):
        urls = [u.strip() for u in outputs["TurnUrls"].split(",") if u.strip()]
    else:
        host = outputs["RelayHost"]
        urls = [f"turn:{host}:3478?transport=udp", f"turn:{host}:3478?transport=tcp", f"stun:{host}:3478"]
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    options = template.get("Metadata", {}).get("Otter", {}).get("options", {})
    quotas = {k: int(options[k]) for k in ("relayUserQuota", "relayTotalQuota", "relayMaxBps") if k in options}
    tls = any(u.startswith("turns:") for u in urls)
    return {"turnUrls": urls, "relayQuotas": quotas, "turnTlsHint": None if tls else TLS_HINT}


def stack_exists(cfn, name):
    try:
        s = cfn.describe_stacks(StackName=name)["Stacks"][0]
        return s["StackStatus"] != "DELETE_COMPLETE"
    except botocore.exceptions.ClientError:
        return False


def tagged_buckets(s3, stack):
    out = []
    for b in s3.list_buckets()["Buckets"]:
        try:
            tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=b["Name"])["TagSet"]}
        except botocore.exceptions.ClientError:
            continue
        if tags.get("otter:stack") == stack:
            out.append(b["Name"])
    return out


def test_wrong_credentials_are_explained_and_create_nothing(moto, tmp_path):
    r = otter(moto, tmp_path, "deploy", "--yes", "--stack", "wrongcreds", secret="not-the-secret")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "SignatureDoesNotMatch" in r.stderr and "secret is wrong" in r.stderr
    assert "Nothing was created" in r.stderr
    assert not stack_exists(aws(moto, "cloudformation"), "wrongcreds")
    assert [b["Name"] for b in aws(moto, "s3").list_buckets()["Buckets"] if "wrongcreds" in b["Name"]] == []
    assert not (tmp_path / ".otter" / "wrongcreds.json").exists()


def test_without_a_terminal_deploy_needs_yes_and_creates_nothing(moto, tmp_path):
    # Nobody can answer the prompt, so deploy refuses before it creates the
    # artifacts bucket, uploads the handlers or writes the state file.
    r = otter(moto, tmp_path, "deploy", "--stack", "unconfirmed")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "--yes" in r.stderr and "Nothing was created or changed" in r.stderr
    assert not stack_exists(aws(moto, "cloudformation"), "unconfirmed")
    assert [b["Name"] for b in aws(moto, "s3").list_buckets()["Buckets"] if "unconfirmed" in b["Name"]] == []
    assert not (tmp_path / ".otter" / "unconfirmed.json").exists()
    assert not (tmp_path / ".otter").exists()


def test_deploy_redeploy_update_destroy(moto, tmp_path):
    cfn, s3 = aws(moto, "cloudformation"), aws(moto, "s3")

    # --- first deploy
    r = otter(moto, tmp_path, "deploy", "--yes")
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "Account 123456789012 · region us-east-1" in out
    assert re.search(r"\[\s*\d+/\d+\]\s+CREATE_COMPLETE", out), out  # streamed events with a progress count
    key = re.search(r"^API key: (otk_\S+)$", out, re.M).group(1)
    assert "Sample room:" in out  # moto's API host names do not resolve: says how to create one
    assert re.search(r"^Service-linked roles: ECS, Elastic Load Balancing, Application Auto Scaling ready \(", out, re.M), out
    log = (tmp_path / ".otter" / "otter.deploy.log").read_text()  # every line of the run, but not the key
    assert re.search(r"\[\s*\d+/\d+\]\s+CREATE_COMPLETE", log) and "Otter is deployed" in log and key not in log

    stack = cfn.describe_stacks(StackName="otter")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}

    # the summary: the relay's ICE URLs, its quotas, and how to get TURN over TLS
    relay = expected_relay_summary(cfn, "otter", outputs)
    assert relay["turnUrls"], outputs
    summary = out[out.index("Otter is deployed"):]
    for url in relay["turnUrls"]:
        assert re.search(r"^(TURN:   |        ) " + re.escape(url) + "$", summary, re.M), summary
    assert set(relay["relayQuotas"]) == {"relayUserQuota", "relayTotalQuota", "relayMaxBps"}, relay
    for key_name, word in (("relayUserQuota", "per user"), ("relayTotalQuota", "in total"), ("relayMaxBps", "bytes/s")):
        assert f"{relay['relayQuotas'][key_name]} " in summary and word in summary, summary
    assert f"turn:{outputs['RelayHost']}:443?transport=tcp" in summary, summary
    assert (TLS_HINT in summary) == (relay["turnTlsHint"] is not None), summary

    # what the stack created, seen through boto3
    functions = {f["FunctionName"] for f in aws(moto, "lambda").list_functions()["Functions"]}
    for name, value in outputs.items():
        if name.endswith("FunctionName"):
            assert value in functions
    tables = set(aws(moto, "dynamodb").list_tables()["TableNames"])
    assert {outputs["RoomsTable"], outputs["ConnectionsTable"], outputs["ConfigTable"]} <= tables
    apigw = aws(moto, "apigatewayv2")
    apis = {a["ApiId"]: a for a in apigw.get_apis()["Items"]}
    assert apis[outputs["HttpApiId"]]["ProtocolType"] == "HTTP"
    assert apis[outputs["WebSocketApiId"]]["ProtocolType"] == "WEBSOCKET"
    http_routes = {x["RouteKey"] for x in apigw.get_routes(ApiId=outputs["HttpApiId"])["Items"]}
    assert "POST /rooms" in http_routes
    ws_routes = {x["RouteKey"] for x in apigw.get_routes(ApiId=outputs["WebSocketApiId"])["Items"]}
    assert {"$connect", "$disconnect", "join", "signal", "ping"} <= ws_routes
    svc = aws(moto, "ecs").describe_services(cluster=outputs["RelayCluster"], services=[outputs["RelayService"]])["services"]
    assert len(svc) == 1
    # a WebSocket stage logs through the region's API Gateway logging role: the stack sets it
    logging_role = aws(moto, "apigateway").get_account()["cloudwatchRoleArn"]
    assert aws(moto, "iam").get_role(RoleName=logging_role.rsplit("/", 1)[1])["Role"]["Arn"] == logging_role
    assert outputs["TurnUrls"].split(",")[2] == f"turn:{outputs['RelayHost']}:443?transport=tcp"
    dist = aws(moto, "cloudfront").get_distribution(Id=outputs["DistributionId"])["Distribution"]
    assert outputs["WebAppUrl"] == f"https://{dist['DomainName']}"

    # the handler zip: content-addressed, holds the handlers and the limits they read
    zip_key = params["HandlersKey"]
    body = s3.get_object(Bucket=params["ArtifactsBucket"], Key=zip_key)["Body"].read()
    assert zip_key == f"handlers/{hashlib.sha256(body).hexdigest()[:16]}.zip"
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "otter_common.py" in names and "http_rooms.py" in names and "README.md" not in names
    assert zipfile.ZipFile(io.BytesIO(body)).read("limits.json") == (ROOT / "Templates" / "limits.json").read_bytes()

    # the web app and its config.js
    site = outputs["SiteBucket"]
    index = s3.get_object(Bucket=site, Key="index.html")
    assert index["ContentType"].startswith("text/html") and index["CacheControl"] == "no-cache"
    assert s3.head_object(Bucket=site, Key="app.js")["ContentType"].startswith("text/javascript")
    config = s3.get_object(Bucket=site, Key="config.js")
    assert config["CacheControl"] == "no-cache"
    text = config["Body"].read().decode()
    cfg = json.loads(text.removeprefix("window.OTTER_CONFIG = ").rstrip().rstrip(";"))
    assert cfg["apiUrl"] == outputs["ApiUrl"] and cfg["signalUrl"] == outputs["SignalUrl"]
    assert cfg["stunUrls"] == [outputs["StunUrl"]]
    assert key not in text and "secret" not in text.lower()

    # the key: only its hash in the config table; the key itself in a 0600 file
    item = aws(moto, "dynamodb").get_item(TableName=outputs["ConfigTable"], Key={"id": {"S": "apiKey"}})["Item"]
    assert item["hash"]["S"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(item)
    key_file = tmp_path / ".otter" / "otter.api-key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    state = json.loads((tmp_path / ".otter" / "otter.json").read_text())
    assert state["apiURL"] == outputs["ApiUrl"] and state["stackID"] == stack["StackId"]
    assert key not in json.dumps(state)

    # the web app was invalidated in CloudFront after the upload
    invalidations = aws(moto, "cloudfront").list_invalidations(DistributionId=outputs["DistributionId"])
    assert invalidations["InvalidationList"]["Quantity"] >= 1

    # create-room finds the deployed API in the saved state (moto cannot serve it)
    r = otter(moto, tmp_path, "create-room")
    assert r.returncode == 1 and "could not reach " + outputs["ApiUrl"] in r.stderr, r.stderr

    # --- the same deploy again: up to date, nothing executed, the key kept
    events_before = len(cfn.describe_stack_events(StackName="otter")["StackEvents"])
    r = otter(moto, tmp_path, "deploy", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "up to date" in r.stdout
    assert "unchanged" in r.stdout  # the handler zip's key exists: no upload
    assert "API key: otk_" not in r.stdout
    assert len(cfn.describe_stack_events(StackName="otter")["StackEvents"]) == events_before
    assert cfn.describe_stacks(StackName="otter")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    item2 = aws(moto, "dynamodb").get_item(TableName=outputs["ConfigTable"], Key={"id": {"S": "apiKey"}})["Item"]
    assert item2["hash"] == item["hash"]

    # --- a changed option: an update
    r = otter(moto, tmp_path, "deploy", "--yes", "--max-peers", "3", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)  # only the result on stdout; progress went to stderr
    assert result["status"] == "UPDATE_COMPLETE" and result["upToDate"] is False
    assert result["apiUrl"] == outputs["ApiUrl"] and "apiKey" not in result
    relay = expected_relay_summary(cfn, "otter", outputs)
    assert result["turnUrls"] == relay["turnUrls"]
    assert result.get("relayQuotas", {}) == relay["relayQuotas"]
    assert result.get("turnTlsHint") == relay["turnTlsHint"]
    assert "UPDATE_COMPLETE" in r.stderr
    stack = cfn.describe_stacks(StackName="otter")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["MaxPeers"] == "3"

    # --- destroy, twice
    r = otter(moto, tmp_path, "destroy", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Destroyed." in r.stdout
    assert not stack_exists(cfn, "otter")
    # retained: the setting is account-wide, other APIs in the region log through it
    assert aws(moto, "iam").get_role(RoleName=logging_role.rsplit("/", 1)[1])["Role"]["Arn"] == logging_role
    assert tagged_buckets(s3, "otter") == []
    assert site not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not (tmp_path / ".otter" / "otter.json").exists() and not key_file.exists()
    # a second destroy finds nothing: it says so and fails, removing nothing
    r = otter(moto, tmp_path, "destroy", "--yes")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no stack named otter exists in account 123456789012, region us-east-1" in r.stderr
    assert "nothing was removed" in r.stderr and "Destroyed" not in r.stdout


SLR_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "ecs.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_ECSService",
}


@pytest.fixture
def fresh_moto():
    """An account of its own: no service-linked role exists yet."""
    with MotoServer(user="newcomer", region=REGION) as m:
        yield m


def test_service_linked_roles_have_the_names_aws_documents(fresh_moto, tmp_path):
    # A first ECS service fails with "Unable to assume the service linked role"
    # until AWSServiceRoleForECS exists, so deploy creates the roles before the
    # change set. Principals and role names as each service documents them:
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    # https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-ecs.html
    iam = fresh_moto.client("iam")
    assert iam.list_roles(PathPrefix="/aws-service-role/")["Roles"] == []
    r = otter(fresh_moto, tmp_path, "deploy", "--yes", "--stack", "firstuse")
    assert r.returncode == 0, r.stdout + r.stderr
    line = "Service-linked roles: ECS, Elastic Load Balancing, Application Auto Scaling ready " \
           "(created: ECS, Elastic Load Balancing, Application Auto Scaling)"
    assert line in r.stdout.splitlines(), r.stdout
    assert r.stdout.index(line) < r.stdout.index("Stack firstuse: creating")  # before the change set
    for principal, name in SLR_NAMES.items():
        role = iam.get_role(RoleName=name)["Role"]
        assert role["Path"] == f"/aws-service-role/{principal}/"
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] in (principal, [principal])


def test_an_existing_service_linked_role_is_invalid_input_has_been_taken(fresh_moto, tmp_path):
    # IAM refuses a second CreateServiceLinkedRole for a principal with InvalidInput
    # "Service role name X has been taken in this account, please try a different
    # suffix." (the action's errors are InvalidInput, LimitExceeded, NoSuchEntity,
    # ServiceFailure): https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
    # Deploy takes that as "the role is there".
    iam = fresh_moto.client("iam")
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    assert e.value.response["Error"]["Code"] == "InvalidInput"
    assert "AWSServiceRoleForECS has been taken in this account" in e.value.response["Error"]["Message"]

    r = otter(fresh_moto, tmp_path, "deploy", "--yes", "--stack", "secondslr")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Service-linked roles: ECS, Elastic Load Balancing, Application Auto Scaling ready " \
           "(created: Elastic Load Balancing, Application Auto Scaling)" in r.stdout.splitlines(), r.stdout
    r = otter(fresh_moto, tmp_path, "deploy", "--yes", "--stack", "secondslr")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Service-linked roles: ECS, Elastic Load Balancing, Application Auto Scaling ready (already there)" \
        in r.stdout.splitlines(), r.stdout
    assert {r["RoleName"] for r in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]} == set(SLR_NAMES.values())


def write_state(tmp_path, stack, account="123456789012", region=REGION):
    """A `.otter/<stack>.json` as deploy writes it (DeployState)."""
    state = {"stack": stack, "region": region, "account": account, "status": "CREATE_COMPLETE",
             "artifactsBucket": f"otter-{account}-{region}-{stack}", "updatedAt": "2026-12-01T00:00:00Z"}
    (tmp_path / ".otter").mkdir(exist_ok=True)
    path = tmp_path / ".otter" / f"{stack}.json"
    path.write_text(json.dumps(state))
    return path


def test_destroy_needs_confirmation_without_a_terminal(moto, tmp_path):
    state = write_state(tmp_path, "keepme")
    r = otter(moto, tmp_path, "destroy", "--stack", "keepme")
    assert r.returncode == 1 and "--yes" in r.stderr, r.stdout + r.stderr
    assert state.exists()


def test_destroy_of_a_stack_that_exists_nowhere_says_so_and_removes_nothing(moto, tmp_path):
    write_state(tmp_path, "other")
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "nosuch")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no stack named nosuch exists in account 123456789012, region us-east-1" in r.stderr
    assert "nothing was removed" in r.stderr
    assert "other (us-east-1)" in r.stderr  # the stacks this machine knows of
    assert "Destroyed" not in r.stdout and "Local state removed" not in r.stdout
    assert (tmp_path / ".otter" / "other.json").exists()


def test_destroy_of_a_gone_stack_removes_its_local_state_and_says_so(moto, tmp_path):
    state = write_state(tmp_path, "gone")
    (tmp_path / ".otter" / "gone.api-key").write_text("otk_x\n")
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "gone")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Stack gone does not exist in account 123456789012, region us-east-1" in r.stdout
    assert "Local state removed" in r.stdout and "Destroyed." not in r.stdout
    assert not state.exists() and not (tmp_path / ".otter" / "gone.api-key").exists()


def test_destroy_refuses_local_state_of_another_region(moto, tmp_path):
    state = write_state(tmp_path, "elsewhere", region="eu-west-1")
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "elsewhere")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "region eu-west-1" in r.stderr and "--region eu-west-1" in r.stderr and "Nothing was removed" in r.stderr
    assert state.exists()


def run_on_a_terminal(moto, tmp_path, args, answer, timeout=120):
    """Runs otter with a pseudo-terminal as stdin (so it asks), answers the
    prompt with `answer` (bytes: b"n\\n", or b"\\x03" for Ctrl-C) and returns
    (exit status, everything it printed)."""
    import pty
    import select
    env = moto.env(tmp_path, OTTER_POLL_SECONDS="0.2")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        if args[0] == "deploy" and "--relay-image" not in args:
            args = [*args, *PINNED_RELAY]
        os.execve(OTTER, [OTTER, *args, "--data-dir", str(tmp_path / ".otter")], env)
    out, answered, deadline = b"", False, time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if not answered and b"[y/N]" in out:
            os.write(fd, answer)
            answered = True
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, 9)
        pytest.fail("otter did not finish: " + out.decode(errors="replace"))
    if not done:
        _, status = os.waitpid(pid, 0)
    os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    return code, out.decode(errors="replace")


def test_answering_no_at_the_prompt_leaves_nothing(moto, tmp_path):
    code, out = run_on_a_terminal(moto, tmp_path, ["deploy", "--stack", "saidno"], b"n\n")
    assert code == 1, out
    assert "Add" in out and "nothing was changed" in out
    assert not stack_exists(aws(moto, "cloudformation"), "saidno")


def test_ctrl_c_at_the_prompt_deletes_the_change_set(moto, tmp_path):
    code, out = run_on_a_terminal(moto, tmp_path, ["deploy", "--stack", "ctrlc"], b"\x03")
    assert code == 130, out
    assert "Cancelled" in out
    cfn = aws(moto, "cloudformation")
    assert not stack_exists(cfn, "ctrlc")
    # `otter destroy` afterwards still cleans the artifacts bucket and state
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "ctrlc")
    assert r.returncode == 0, r.stdout + r.stderr
    assert tagged_buckets(aws(moto, "s3"), "ctrlc") == []


def test_on_a_terminal_each_phase_is_one_progress_line_and_the_log_has_every_event(moto, tmp_path):
    # The same failure as below, on a terminal: the events collapse into one
    # rewritten line per phase, the failure is printed in full, and
    # .otter/<stack>.deploy.log holds every event.
    cf = aws(moto, "cloudfront")
    oac = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": "livefail-us-east-1-site", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]
    try:
        code, out = run_on_a_terminal(moto, tmp_path, ["deploy", "--yes", "--stack", "livefail"], b"")
        assert code == 1, out
        log = (tmp_path / ".otter" / "livefail.deploy.log").read_text()
        events = [l for l in log.splitlines() if re.search(r"\]\s+(CREATE|ROLLBACK|DELETE)_\w+\s", l)]
        additions = [l for l in log.splitlines() if l.startswith("  + Add ")]
        # every event of the create and the rollback, and every change of the change set
        assert len(events) > 20 and len(additions) > 100, log
        assert "error: deploy of stack livefail failed (ROLLBACK_COMPLETE)" in log
        assert "\r\x1b[2K" in out  # the progress line, rewritten in place
        text = out.replace("\r\n", "\n")
        screen = text.split("\n")
        assert len(screen) < 30, out
        assert re.search(r"^Changes: \d+ to add$", text, re.M) and "+ Add " not in out, out  # --yes: counts only
        assert not any(re.search(r"\]\s+CREATE_COMPLETE\s", l.split("\r")[-1]) for l in screen), out
        failure = [l for l in screen if "CREATE_FAILED" in l and "SiteOriginAccessControl" in l]
        assert failure and "already exists" in failure[0], out
        assert "Failed resource: SiteOriginAccessControl" in out
        assert "every event in " + str(tmp_path / ".otter" / "livefail.deploy.log") in out

        # --verbose prints every event on a terminal too (here: deleting the failed stack, then failing again)
        code, out = run_on_a_terminal(moto, tmp_path, ["deploy", "--yes", "--verbose", "--stack", "livefail"], b"")
        assert code == 1, out
        log = (tmp_path / ".otter" / "livefail.deploy.log").read_text()
        events = [l for l in log.splitlines() if re.search(r"\]\s+(CREATE|ROLLBACK|DELETE)_\w+\s", l)]
        assert len(events) > 20 and "\r\x1b[2K" not in out
        screen = out.replace("\r\n", "\n").split("\n")
        assert all(e in screen for e in events), out
    finally:
        cf.delete_origin_access_control(Id=oac["Id"], IfMatch=cf.get_origin_access_control(Id=oac["Id"])["ETag"])
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "livefail")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (tmp_path / ".otter" / "livefail.deploy.log").exists()


def test_a_failing_deploy_names_the_resource_and_a_rerun_recovers(moto, tmp_path):
    # A leftover CloudFront origin access control with the name the stack wants
    # (names are unique per account) makes that resource fail, as on AWS.
    cf = aws(moto, "cloudfront")
    oac = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": "failing-us-east-1-site", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]
    r = otter(moto, tmp_path, "deploy", "--yes", "--stack", "failing")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "CREATE_FAILED" in r.stdout  # the event stream shows it
    assert "Failed resource: SiteOriginAccessControl (AWS::CloudFront::OriginAccessControl)" in r.stderr
    assert "already exists" in r.stderr and "rolled back" in r.stderr
    cfn = aws(moto, "cloudformation")
    assert cfn.describe_stacks(StackName="failing")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert not (tmp_path / ".otter" / "failing.api-key").exists()

    # Fix the cause; the next deploy removes the failed stack and creates it anew.
    cf.delete_origin_access_control(Id=oac["Id"], IfMatch=cf.get_origin_access_control(Id=oac["Id"])["ETag"])
    r = otter(moto, tmp_path, "deploy", "--yes", "--stack", "failing")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "deleting it before creating it again" in r.stdout
    assert cfn.describe_stacks(StackName="failing")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "failing")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not stack_exists(cfn, "failing")


def test_destroy_reports_what_blocks_it_and_resumes(moto, tmp_path):
    r = otter(moto, tmp_path, "deploy", "--yes", "--stack", "blocked")
    assert r.returncode == 0, r.stdout + r.stderr
    cfn, s3 = aws(moto, "cloudformation"), aws(moto, "s3")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="blocked")["Stacks"][0]["Outputs"]}
    site = outputs["SiteBucket"]
    # Someone removed the bucket's otter:stack tag: destroy will not empty a
    # bucket it cannot prove is this stack's, so CloudFormation cannot delete it.
    s3.delete_bucket_tagging(Bucket=site)
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "blocked")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "DELETE_FAILED" in r.stdout
    assert "Blocked by SiteBucket (AWS::S3::Bucket)" in r.stdout and "not empty" in r.stdout
    assert "run `otter destroy` again" in r.stderr
    assert cfn.describe_stacks(StackName="blocked")["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    assert (tmp_path / ".otter" / "blocked.json").exists()  # state kept until the stack is gone

    # The user empties it; destroy resumes from DELETE_FAILED.
    versions = s3.list_object_versions(Bucket=site)
    objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])]
    s3.delete_objects(Bucket=site, Delete={"Objects": objects})
    r = otter(moto, tmp_path, "destroy", "--yes", "--stack", "blocked")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not stack_exists(cfn, "blocked")
    assert tagged_buckets(s3, "blocked") == []
    assert not (tmp_path / ".otter" / "blocked.json").exists()


class BusyCloudFormation:
    """A CloudFormation endpoint whose stack stays UPDATE_IN_PROGRESS: a stand-in,
    because moto finishes every stack operation inside the API call, so a deploy
    never has anything to wait for there. Everything else (STS, S3) is moto."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        import threading
        import urllib.parse
        calls = self.calls = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                action = form["Action"][0]
                calls.append(action)
                stack = ("<StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/busy/1</StackId>"
                         "<StackName>busy</StackName><StackStatus>UPDATE_IN_PROGRESS</StackStatus>")
                if action == "DescribeStacks":
                    body = f"<DescribeStacksResult><Stacks><member>{stack}</member></Stacks></DescribeStacksResult>"
                elif action == "DescribeStackEvents":
                    body = ("<DescribeStackEventsResult><StackEvents><member><EventId>e1</EventId>"
                            "<LogicalResourceId>RelayService</LogicalResourceId><ResourceType>AWS::ECS::Service</ResourceType>"
                            "<ResourceStatus>UPDATE_IN_PROGRESS</ResourceStatus><Timestamp>2026-11-27T10:00:00Z</Timestamp>"
                            "</member></StackEvents></DescribeStackEventsResult>")
                else:
                    self.send_response(400)
                    self.end_headers()
                    return
                data = f'<{action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">{body}</{action}Response>'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_ctrl_c_while_waiting_for_cloudformation_leaves_things_consistent(moto, tmp_path):
    import signal
    cfn = BusyCloudFormation()
    try:
        env = moto.env(tmp_path, OTTER_POLL_SECONDS="0.2", AWS_ENDPOINT_URL_CLOUDFORMATION=cfn.url)
        proc = subprocess.Popen([OTTER, "deploy", "--yes", "--stack", "busy", *PINNED_RELAY, "--data-dir", str(tmp_path / ".otter")],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while cfn.calls.count("DescribeStacks") < 3:  # it is polling the busy stack
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        cfn.server.shutdown()
    assert proc.returncode == 130, out + err
    assert "busy (UPDATE_IN_PROGRESS); waiting" in out
    assert "Run `otter deploy` again" in err
    # Nothing was asked of CloudFormation but to describe; the state records the bucket for a later destroy.
    assert set(cfn.calls) <= {"DescribeStacks", "DescribeStackEvents"}, cfn.calls
    state = json.loads((tmp_path / ".otter" / "busy.json").read_text())
    assert state["status"] == "DEPLOYING" and state["artifactsBucket"] in [b["Name"] for b in moto.client("s3").list_buckets()["Buckets"]]
