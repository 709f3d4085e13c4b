"""cfn-lint on every variant `otter template` can produce, and the stack tag on
every resource whose type has Tags (per cfn-lint's own resource schemas).

Runs the built binary: OTTER_BIN (default .build/debug/otter). cfn-lint's exit
code is a bit mask (2 error, 4 warning, 8 informational); the lint output is
parsed so a failure names the rule and the resource.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build" / "debug" / "otter"))
CFN_LINT = shutil.which("cfn-lint") or "/root/.pyenv/shims/cfn-lint"

CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0d3c7a4e-1b2c-4d5e-8f90-123456789abc"

VARIANTS = {
    "default": [],
    "four-peers": ["--max-peers", "4"],
    "custom-relay-image": ["--relay-image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter-relay:1.0"],
    "relay-min-max": ["--relay-min", "2", "--relay-max", "10"],
    "relay-fixed": ["--relay-min", "3", "--relay-max", "3"],
    "other-stack": ["--stack", "otter-staging"],
    "relay-quotas": ["--relay-user-quota", "16", "--relay-total-quota", "200", "--relay-max-bps", "250000"],
    "domain-tls": ["--domain", "turn.example.com", "--certificate-arn", CERTIFICATE_ARN],
    "otter-image": ["--relay-image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/otter/otter/relay@sha256:" + "5e" * 32,
                    "--otter-relay-image"],
}


def otter(*args, check=True, command="template"):
    return subprocess.run([OTTER, command, *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Every variant written by `otter template --out`, plus one broken on purpose."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {}
    for name, args in VARIANTS.items():
        paths[name] = folder / f"{name}.json"
        otter(*args, "--out", str(paths[name]))
    # The linter must be able to fail: a misspelt property has to be reported.
    paths["broken"] = folder / "broken.json"
    paths["broken"].write_text(paths["default"].read_text().replace('"RetentionInDays"', '"RetentionInDay"', 1))
    return paths


@pytest.fixture(scope="module")
def lint(templates):
    """cfn-lint once over all files (its start-up costs seconds); findings per variant."""
    proc = subprocess.run([CFN_LINT, "--format", "json", *map(str, templates.values())],
                          capture_output=True, text=True)
    assert proc.stdout.strip().startswith("["), f"cfn-lint failed: exit {proc.returncode}\n{proc.stderr}"
    findings = json.loads(proc.stdout)
    by_name = {name: [] for name in templates}
    for f in findings:
        by_name[Path(f["Filename"]).stem].append(f)
    return by_name, proc.returncode


@pytest.fixture(params=sorted(VARIANTS))
def variant(request, templates):
    return request.param, templates[request.param]


def test_cfn_lint_finds_nothing(variant, lint):
    name, _ = variant
    findings = [f for f in lint[0][name] if f["Level"] in ("Error", "Warning")]
    assert findings == [], f"{name}: " + "\n".join(
        f'{f["Rule"]["Id"]} {f["Message"]} @ {"/".join(map(str, f["Location"]["Path"]))}' for f in findings)


def test_cfn_lint_is_not_blind(lint):
    by_name, returncode = lint
    assert any(f["Rule"]["Id"] == "E3002" and "RetentionInDay" in f["Message"] for f in by_name["broken"])
    assert returncode & 2, "the broken template must set the error bit of cfn-lint's exit code"


def test_each_variant_alone_exits_clean(templates):
    """The exit-code contract itself (0 = clean), on one variant so the suite stays fast."""
    proc = subprocess.run([CFN_LINT, str(templates["relay-min-max"])], capture_output=True, text=True)
    assert proc.returncode & 0b110 == 0, proc.stdout + proc.stderr


def _schema(resource_type):
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
    return PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema


def test_every_taggable_resource_is_tagged(variant):
    name, path = variant
    stack = next((VARIANTS[name][i + 1] for i, a in enumerate(VARIANTS[name]) if a == "--stack"), "otter")
    template = json.loads(path.read_text())
    untagged = []
    for logical_id, resource in template["Resources"].items():
        if "Tags" not in _schema(resource["Type"]).get("properties", {}):
            continue
        tags = resource.get("Properties", {}).get("Tags")
        pairs = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else (tags or {})
        if pairs.get("otter:stack") != stack:
            untagged.append(f'{logical_id} ({resource["Type"]})')
    assert untagged == []


def test_same_options_same_bytes():
    assert otter("--max-peers", "3").stdout == otter("--max-peers", "3").stdout


@pytest.mark.parametrize("args, message", [
    (["--max-peers", "5"], "--max-peers must be 2, 3 or 4"),
    (["--relay-min", "5", "--relay-max", "4"], "--relay-min (5) must not be above --relay-max (4)"),
    (["--stack", "9lives"], "--stack must start with a letter"),
    (["--relay-image", "has space"], "--relay-image must be an image reference"),
    (["--relay-max", "0"], "--relay-max must be from 1 to 20"),
    (["--relay-user-quota", "0"], "--relay-user-quota must be from 1 to 10000"),
    (["--relay-total-quota", "100001"], "--relay-total-quota must be from 1 to 100000"),
    (["--relay-user-quota", "64", "--relay-total-quota", "10"], "--relay-user-quota (64) must not be above --relay-total-quota (10)"),
    (["--relay-max-bps", "0"], "--relay-max-bps must be from 16000 to 12500000"),
    (["--domain", "turn.example.com"], "--domain and --certificate-arn go together"),
    (["--certificate-arn", CERTIFICATE_ARN], "--domain and --certificate-arn go together"),
    (["--domain", "turn", "--certificate-arn", CERTIFICATE_ARN], "--domain must be a host name"),
    (["--domain", "turn.example.com", "--certificate-arn", "arn:aws:iam::123456789012:server-certificate/x"],
     "--certificate-arn must be an ACM certificate ARN"),
    (["--otter-relay-image"], "--otter-relay-image describes the image given with --relay-image"),
])
@pytest.mark.parametrize("command", ["template", "deploy"])
def test_bad_options_are_refused_clearly(args, message, command):
    """Both commands share the stack options and refuse before any AWS call."""
    proc = otter(*args, check=False, command=command)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert proc.stdout == ""


def test_template_and_deploy_declare_the_same_stack_options():
    def options(command):
        text = otter("--help", command=command).stdout
        return {word for word in text.split() if word.startswith("--")}
    stack = {"--stack", "--max-peers", "--relay-image", "--relay-min", "--relay-max", "--relay-user-quota",
             "--relay-total-quota", "--relay-max-bps", "--domain", "--certificate-arn", "--otter-relay-image"}
    assert stack <= options("template")
    assert stack <= options("deploy")


def test_domain_variant_offers_turns_and_names_the_dns_record(templates):
    """The TLS listener on 443, the turns: URL the handlers hand out, and the CNAME to create."""
    t = json.loads(templates["domain-tls"].read_text())
    listener = t["Resources"]["RelayListener443"]["Properties"]
    assert listener["Protocol"] == "TLS" and listener["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    urls = t["Outputs"]["TurnUrls"]["Value"]["Fn::Sub"].split(",")
    assert "turns:turn.example.com:443?transport=tcp" in urls
    assert t["Outputs"]["TurnDnsRecord"]["Value"] == {"Fn::Sub": "turn.example.com CNAME ${RelayLoadBalancer.DNSName}"}
    default = json.loads(templates["default"].read_text())
    assert default["Resources"]["RelayListener443"]["Properties"]["Protocol"] == "TCP"
    assert "TurnTlsNote" in default["Outputs"] and "TurnDnsRecord" not in default["Outputs"]


def test_out_file_matches_stdout(tmp_path):
    out = tmp_path / "t.json"
    otter("--out", str(out))
    assert out.read_text() == otter().stdout
