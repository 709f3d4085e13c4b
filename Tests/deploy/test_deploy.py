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


def otter(moto, tmp_path, *args, secret=None, timeout=240, stdin=None):
    env = moto.env(tmp_path, secret=secret, OTTER_POLL_SECONDS="0.2")
    return subprocess.run([OTTER, *args, "--data-dir", str(tmp_path / ".otter")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL)


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


def test_without_a_terminal_deploy_needs_yes_and_changes_nothing(moto, tmp_path):
    r = otter(moto, tmp_path, "deploy", "--stack", "unconfirmed")
    assert r.returncode == 1
    assert "--yes" in r.stderr and "Nothing was changed" in r.stderr
    assert "Add" in r.stdout  # the changes were shown before refusing
    assert not stack_exists(aws(moto, "cloudformation"), "unconfirmed")


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

    stack = cfn.describe_stacks(StackName="otter")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}

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

    # the handler zip: content-addressed, holds the handlers
    zip_key = params["HandlersKey"]
    body = s3.get_object(Bucket=params["ArtifactsBucket"], Key=zip_key)["Body"].read()
    assert zip_key == f"handlers/{hashlib.sha256(body).hexdigest()[:16]}.zip"
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "otter_common.py" in names and "http_rooms.py" in names and "README.md" not in names

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
    r = otter(moto, tmp_path, "destroy", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "does not exist" in r.stdout


def test_destroy_needs_confirmation_without_a_terminal(moto, tmp_path):
    r = otter(moto, tmp_path, "destroy", "--stack", "keepme")
    assert r.returncode == 1 and "--yes" in r.stderr


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
        proc = subprocess.Popen([OTTER, "deploy", "--yes", "--stack", "busy", "--data-dir", str(tmp_path / ".otter")],
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
