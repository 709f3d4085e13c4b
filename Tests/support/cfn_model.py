"""A CloudFormation template read the way CloudFormation would read it, for
tests that check the Otter stack against rules AWS enforces (and moto does not).

- ``render(args)``: the template `otter template ARGS` prints (OTTER_BIN).
- ``Stack``: the resources that exist once the template's Conditions are
  evaluated with the parameters' defaults (what `otter deploy` passes), the
  logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub), transitive
  dependencies, and ``resolve``: intrinsic functions turned into the strings
  CloudFormation would produce. A resource's Ref/ARN comes from ``concrete``
  when given (the IAM coverage test passes the test environment's real table
  names, secret ARNs and API id), else from a placeholder of the right form
  (``arn:aws:dynamodb:us-east-1:123456789012:table/ConfigTable``) so rules can
  check ARN shapes. What a Ref returns per type, and the GetAtt attributes:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html
"""

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OTTER = os.environ.get("OTTER_BIN", str(ROOT / ".build" / "debug" / "otter"))

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


def otter(*args, check=True):
    return subprocess.run([OTTER, *args], capture_output=True, text=True, check=check)


def render(args):
    """`otter template ARGS` parsed."""
    return json.loads(otter("template", *args).stdout)


class Unresolvable(Exception):
    pass


def _arn(service, resource, region=REGION, account=ACCOUNT):
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


# What Ref returns for a resource type, as a function of a name/id (the
# concrete value or the logical id). Types whose Ref is a name or id, not an ARN.
def _ref_form(rtype, lid, props):
    name = lid
    if rtype == "AWS::SecretsManager::Secret":
        return _arn("secretsmanager", f"secret:{lid}-AbCdEf")
    if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        kind = "net" if props.get("Type") == "network" else "app"
        return _arn("elasticloadbalancing", f"loadbalancer/{kind}/{lid[:32]}/50dc6c495c0c9188")
    if rtype == "AWS::ElasticLoadBalancingV2::TargetGroup":
        return _arn("elasticloadbalancing", f"targetgroup/{lid[:32]}/6d0ecf831eec9f09")
    if rtype == "AWS::ElasticLoadBalancingV2::Listener":
        return _arn("elasticloadbalancing", f"listener/net/lb/50dc6c495c0c9188/{lid.lower()}")
    if rtype == "AWS::ECS::Service":
        return _arn("ecs", f"service/cluster/{lid}")
    if rtype == "AWS::ECS::TaskDefinition":
        return _arn("ecs", f"task-definition/{lid}:1")
    if rtype in ("AWS::IAM::ManagedPolicy", "AWS::SNS::Topic"):
        return _arn("iam" if "IAM" in rtype else "sns", lid)
    if rtype == "AWS::S3::Bucket":
        return props.get("BucketName") if isinstance(props.get("BucketName"), str) else lid.lower()
    if rtype == "AWS::ApiGatewayV2::Api":
        return lid.lower()[:10]
    if rtype == "AWS::ApiGatewayV2::Stage":
        return props.get("StageName") if isinstance(props.get("StageName"), str) else lid
    return name


# Fn::GetAtt attributes that are ARNs, built from the resource's Ref value.
def _getatt_form(rtype, lid, attr, ref_value, props):
    if attr == "Arn":
        if rtype == "AWS::DynamoDB::Table":
            return _arn("dynamodb", f"table/{ref_value}")
        if rtype == "AWS::Logs::LogGroup":
            return _arn("logs", f"log-group:{ref_value}:*")
        if rtype == "AWS::Lambda::Function":
            return _arn("lambda", f"function:{ref_value}")
        if rtype == "AWS::IAM::Role":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{ref_value}"
        if rtype == "AWS::ECS::Cluster":
            return _arn("ecs", f"cluster/{ref_value}")
        if rtype == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{ref_value}"
        if rtype == "AWS::SQS::Queue":
            return _arn("sqs", ref_value)
        if rtype == "AWS::StepFunctions::StateMachine":
            return _arn("states", f"stateMachine:{ref_value}")
    if rtype == "AWS::DynamoDB::Table" and attr == "StreamArn":
        return _arn("dynamodb", f"table/{ref_value}/stream/2026-01-01T00:00:00.000")
    if rtype == "AWS::ApiGatewayV2::Api" and attr == "ApiEndpoint":
        scheme = "wss" if props.get("ProtocolType") == "WEBSOCKET" else "https"
        return f"{scheme}://{ref_value}.execute-api.{REGION}.{URL_SUFFIX}"
    if rtype == "AWS::ApiGatewayV2::Api" and attr == "ApiId":
        return ref_value
    if rtype == "AWS::EC2::SecurityGroup" and attr == "GroupId":
        return ref_value
    if rtype == "AWS::ECS::Service" and attr == "Name":
        return lid
    if rtype == "AWS::S3::Bucket" and attr in ("RegionalDomainName", "DomainName"):
        return f"{ref_value}.s3.{REGION}.{URL_SUFFIX}"
    if rtype == "AWS::CloudFront::Distribution" and attr == "DomainName":
        return "d111111abcdef8.cloudfront.net"
    if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer" and attr == "DNSName":
        return f"{lid.lower()}-0123456789.elb.{REGION}.{URL_SUFFIX}"
    if rtype == "AWS::ElasticLoadBalancingV2::TargetGroup" and attr == "TargetGroupFullName":
        return f"targetgroup/{lid}/6d0ecf831eec9f09"
    raise Unresolvable(f"Fn::GetAtt {lid}.{attr} ({rtype}) is not modelled in Tests/support/cfn_model.py")


class Stack:
    """One rendered template. ``parameters``: overrides of parameter defaults."""

    def __init__(self, template, parameters=None, stack_name="otter"):
        self.template = template
        self.stack_name = stack_name
        self.params = {}
        for name, p in (template.get("Parameters") or {}).items():
            self.params[name] = p.get("Default")
        self.params.update(parameters or {})
        self._conditions = {}
        self.all_resources = template.get("Resources") or {}
        self.resources = {lid: r for lid, r in self.all_resources.items()
                          if "Condition" not in r or self.condition(r["Condition"])}

    # ---------------------------------------------------------------- conditions
    def condition(self, name):
        if name not in self._conditions:
            self._conditions[name] = bool(self._eval_condition(self.template["Conditions"][name]))
        return self._conditions[name]

    def _eval_condition(self, node):
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Fn::Equals":
                a, b = (self._scalar(x) for x in arg)
                return str(a) == str(b)
            if fn == "Fn::Not":
                return not self._eval_condition(arg[0])
            if fn == "Fn::And":
                return all(self._eval_condition(x) for x in arg)
            if fn == "Fn::Or":
                return any(self._eval_condition(x) for x in arg)
            if fn == "Condition":
                return self.condition(arg)
        return self._scalar(node)

    def _scalar(self, node):
        if isinstance(node, dict) and "Ref" in node and node["Ref"] in self.params:
            return self.params[node["Ref"]]
        if isinstance(node, dict) and "Condition" in node:
            return self.condition(node["Condition"])
        if isinstance(node, dict):
            return self.resolve(node)
        return node

    # ---------------------------------------------------------------- lookups
    def of_type(self, rtype):
        return {lid: r for lid, r in self.resources.items() if r["Type"] == rtype}

    def props(self, lid):
        return self.resources[lid].get("Properties") or {}

    def prune(self, value):
        """``value`` with Fn::If chosen and AWS::NoValue removed (the value CloudFormation uses)."""
        if isinstance(value, list):
            out = [self.prune(v) for v in value]
            return [v for v in out if v is not _NO_VALUE]
        if isinstance(value, dict):
            if list(value) == ["Fn::If"]:
                cond, yes, no = value["Fn::If"]
                return self.prune(yes if self.condition(cond) else no)
            if value == {"Ref": "AWS::NoValue"}:
                return _NO_VALUE
            out = {k: self.prune(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not _NO_VALUE}
        return value

    def refs(self, value):
        """Logical ids of resources ``value`` refers to (Ref, Fn::GetAtt, ${X} in Fn::Sub)."""
        found = set()

        def walk(v):
            if isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, dict):
                for k, x in v.items():
                    if k == "Ref" and isinstance(x, str):
                        found.add(x)
                    elif k == "Fn::GetAtt":
                        found.add(x[0] if isinstance(x, list) else x.split(".")[0])
                    elif k == "Fn::Sub":
                        text, extra = (x, {}) if isinstance(x, str) else (x[0], x[1])
                        for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                            if name.split(".")[0] not in extra:
                                found.add(name.split(".")[0])
                        walk(extra)
                    else:
                        walk(x)

        walk(value)
        return {r for r in found if r in self.all_resources}

    def direct_dependencies(self, lid):
        r = self.all_resources[lid]
        deps = r.get("DependsOn") or []
        deps = {deps} if isinstance(deps, str) else set(deps)
        return deps | self.refs(self.prune(r.get("Properties") or {}))

    def dependencies(self, lid):
        """Everything CloudFormation must create before ``lid`` (and delete after it)."""
        seen, todo = set(), [lid]
        while todo:
            for d in self.direct_dependencies(todo.pop()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    # ---------------------------------------------------------------- intrinsic functions
    def ref_value(self, lid, concrete=None):
        concrete = concrete or {}
        if lid in concrete:
            return concrete[lid]
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION,
                  "AWS::URLSuffix": URL_SUFFIX, "AWS::StackName": self.stack_name,
                  "AWS::StackId": _arn("cloudformation", f"stack/{self.stack_name}/0f6b1c2e")}
        if lid in pseudo:
            return pseudo[lid]
        if lid in self.params:
            return str(self.params[lid])
        if lid in self.all_resources:
            r = self.all_resources[lid]
            return _ref_form(r["Type"], lid, r.get("Properties") or {})
        raise Unresolvable(f"Ref {lid}")

    def getatt_value(self, lid, attr, concrete=None):
        concrete = concrete or {}
        if f"{lid}.{attr}" in concrete:
            return concrete[f"{lid}.{attr}"]
        r = self.all_resources[lid]
        return _getatt_form(r["Type"], lid, attr, self.ref_value(lid, concrete), r.get("Properties") or {})

    def resolve(self, value, concrete=None):
        """The string (or list) CloudFormation makes of ``value``."""
        value = self.prune(value)
        if isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, list):
            return [self.resolve(v, concrete) for v in value]
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.ref_value(arg, concrete)
            if fn == "Fn::GetAtt":
                lid, attr = (arg if isinstance(arg, list) else arg.split(".", 1))
                return self.getatt_value(lid, attr, concrete)
            if fn == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def sub(m):
                    name = m.group(1)
                    if name.startswith("!"):
                        return "${" + name[1:] + "}"
                    if name in extra:
                        return str(self.resolve(extra[name], concrete))
                    if "." in name and not name.startswith("AWS::"):
                        lid, attr = name.split(".", 1)
                        return str(self.getatt_value(lid, attr, concrete))
                    return str(self.ref_value(name, concrete))

                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if fn == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self.resolve(p, concrete)) for p in self.resolve(parts, concrete))
            if fn == "Fn::Select":
                index, items = arg
                return self.resolve(items, concrete)[int(self.resolve(index, concrete))]
            if fn == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text, concrete)).split(sep)
            if fn == "Fn::GetAZs":
                return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
        if isinstance(value, dict):
            return {k: self.resolve(v, concrete) for k, v in value.items()}
        raise Unresolvable(json.dumps(value))


class _NoValue:
    def __repr__(self):
        return "AWS::NoValue"


_NO_VALUE = _NoValue()


# ---------------------------------------------------------------- IAM policies

def role_policies(stack, role_lid):
    """[(origin, statement)] of the role's inline policies and of AWS::IAM::Policy
    resources attached to it; managed policy ARNs are returned as origin
    'managed:ARN' with statement None (their content is not in the template)."""
    out = []
    props = stack.prune(stack.props(role_lid))
    for p in props.get("Policies") or []:
        for s in _statements(p["PolicyDocument"]):
            out.append((f"{role_lid}/{p.get('PolicyName')}", s))
    for lid, r in stack.of_type("AWS::IAM::Policy").items():
        rp = stack.prune(r.get("Properties") or {})
        if any(isinstance(x, dict) and x.get("Ref") == role_lid for x in rp.get("Roles") or []):
            for s in _statements(rp["PolicyDocument"]):
                out.append((lid, s))
    for arn in props.get("ManagedPolicyArns") or []:
        out.append((f"managed:{json.dumps(arn)}", None))
    return out


def _statements(document):
    st = document.get("Statement") or []
    return [st] if isinstance(st, dict) else list(st)


def as_list(v):
    return v if isinstance(v, list) else [v]


def _wildcard_regex(pattern):
    out = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(out + r"\Z", re.DOTALL)


def action_matches(pattern, action):
    """IAM action names match case-insensitively, with * and ? wildcards:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"""
    return bool(_wildcard_regex(pattern.lower()).match(action.lower()))


def resource_matches(pattern, arn):
    """ARN matching as IAM does it: the six colon-separated parts are compared
    one by one (a wildcard does not span the first five colons), case
    sensitive, * = any run of characters (including '/'), ? = one character:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"""
    if pattern == "*":
        return True
    p_parts, a_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(p_parts) != len(a_parts):
        return False
    return all(_wildcard_regex(p).match(a) for p, a in zip(p_parts, a_parts))


def statement_applies(statement, action, arn):
    if "Action" in statement:
        a_ok = any(action_matches(p, action) for p in as_list(statement["Action"]))
    else:
        a_ok = not any(action_matches(p, action) for p in as_list(statement["NotAction"]))
    if "Resource" in statement:
        r_ok = any(resource_matches(p, arn) for p in as_list(statement["Resource"]))
    else:
        r_ok = not any(resource_matches(p, arn) for p in as_list(statement["NotResource"]))
    return a_ok and r_ok
