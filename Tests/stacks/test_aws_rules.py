"""AWS rules that moto does not enforce, checked on every template variant
`otter template` produces. Each test is one rule, named after the
AWS behaviour it encodes, with the AWS documentation (or the evidence of the
behaviour) in its docstring. Rules marked "Otter's rule" encode a decision of
the project, not an AWS refusal; they say which issue point they keep.

Runs the built binary: OTTER_BIN (default .build/debug/otter). Intrinsic
functions are resolved by Tests/support/cfn_model.py with placeholder values
of the right shape (ARNs, names), and Conditions are evaluated with the
parameters' defaults, which are what `otter deploy` passes.
"""

import ast
import functools
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))
LAMBDA_DIR = ROOT / "Templates" / "lambda"

import cfn_model  # noqa: E402
from cfn_model import Stack, as_list, otter, render  # noqa: E402

OTTER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/otter/otter/relay@sha256:" + "5e" * 32
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f6b1c2e-1111-2222-3333-444455556666"


def variants():
    """Every template variant the rules run on: each option `otter template`
    has that changes the stack's shape (scaling policy, TLS listener, quotas)."""
    return {
        "default": [],
        "four-peers": ["--max-peers", "4"],
        "relay-min-max": ["--relay-min", "2", "--relay-max", "8"],
        "relay-fixed": ["--relay-min", "3", "--relay-max", "3"],  # no scaling policy
        "domain": ["--domain", "turn.example.com", "--certificate-arn", CERTIFICATE_ARN],
        "quotas": ["--relay-user-quota", "16", "--relay-total-quota", "200", "--relay-max-bps", "250000"],
        # what `otter deploy` pushes and pins: its own image in the stack's ECR repository, by digest
        "otter-image": ["--relay-image", OTTER_IMAGE, "--otter-relay-image"],
    }


VARIANTS = variants()
# The longest stack name `otter --stack` accepts (CloudFormation's own limit):
# names built from ${AWS::StackName} must fit AWS's limits with it.
LONGEST_STACK_NAME = "s" * 128


@pytest.fixture(scope="module")
def templates():
    return {name: render(args) for name, args in VARIANTS.items()}


@pytest.fixture(params=sorted(VARIANTS))
def stack(request, templates):
    return Stack(templates[request.param])


@pytest.fixture(params=sorted(VARIANTS))
def long_named_stack(request, templates):
    return Stack(templates[request.param], stack_name=LONGEST_STACK_NAME)


# ---------------------------------------------------------------- helpers

def ref_id(value):
    """The logical id of a plain {"Ref": X} or {"Fn::GetAtt": [X, ...]}, else None."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        return arg[0] if isinstance(arg, list) else arg.split(".")[0]
    return None


def load_balanced_services(stack):
    services = {lid: stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::ECS::Service")}
    return {lid: p for lid, p in services.items() if p.get("LoadBalancers")}


def container(stack, task_lid, name):
    for c in stack.prune(stack.props(task_lid)).get("ContainerDefinitions") or []:
        if c.get("Name") == name:
            return c
    raise AssertionError(f"{task_lid} has no container {name!r}")


def websocket_apis(stack):
    return {lid for lid, r in stack.of_type("AWS::ApiGatewayV2::Api").items()
            if (r.get("Properties") or {}).get("ProtocolType") == "WEBSOCKET"}


def lambda_functions(stack):
    return {lid: stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::Lambda::Function")}


def policy_statements(stack):
    """[(where, kind, statement)] for every policy document in the template.
    kind: 'identity' (role/managed policies), 'trust' (AssumeRolePolicyDocument)
    or 'resource' (bucket, key, secret, ... policies)."""
    out = []
    for lid, r in stack.resources.items():
        p = stack.prune(r.get("Properties") or {})
        docs = []
        if r["Type"] == "AWS::IAM::Role":
            docs += [(f"{lid}/{x.get('PolicyName')}", "identity", x["PolicyDocument"]) for x in p.get("Policies") or []]
            docs.append((f"{lid}/AssumeRolePolicyDocument", "trust", p["AssumeRolePolicyDocument"]))
        elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append((lid, "identity", p["PolicyDocument"]))
        elif "PolicyDocument" in p:
            docs.append((lid, "resource", p["PolicyDocument"]))
        elif r["Type"] == "AWS::KMS::Key":
            docs.append((lid, "resource", p["KeyPolicy"]))
        elif r["Type"] == "AWS::SecretsManager::ResourcePolicy":
            docs.append((lid, "resource", p["ResourcePolicy"]))
        for where, kind, doc in docs:
            for s in cfn_model._statements(doc):
                out.append((where, kind, s))
    return out


def actions_in_template(stack):
    """[(where, action)]: policy actions and the Action of Lambda permissions."""
    out = [(where, a) for where, _, s in policy_statements(stack)
           for a in as_list(s.get("Action") or s.get("NotAction") or [])]
    out += [(lid, stack.props(lid)["Action"]) for lid in stack.of_type("AWS::Lambda::Permission")]
    return out


# ---------------------------------------------------------------- ECS

def test_ecs_container_port_is_used_in_one_port_mapping_only(stack):
    """ECS refuses a load-balanced service whose container maps one container
    port twice (3478/udp and 3478/tcp): "InvalidParameterException: Container
    port 3478 is used in more than one port mapping" (evidence:
    https://github.com/aws/amazon-ecs-agent/issues/3428). One mapping per
    container port; with awsvpc the security group decides what is reachable.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html"""
    services = load_balanced_services(stack)
    assert services, "the stack has no load-balanced ECS service: this rule has nothing to check"
    problems = []
    for sid, svc in services.items():
        task = ref_id(svc["TaskDefinition"])
        for lb in svc["LoadBalancers"]:
            c = container(stack, task, lb["ContainerName"])
            ports = [m["ContainerPort"] for m in c.get("PortMappings") or []]
            dupes = sorted({p for p in ports if ports.count(p) > 1})
            if dupes:
                problems.append(f"{sid} -> {task}/{c['Name']}: container port(s) {dupes} in more than one port mapping")
            if lb["ContainerPort"] not in ports:
                problems.append(f"{sid}: load balancer container port {lb['ContainerPort']} is not mapped by {c['Name']}")
    assert not problems, "\n".join(problems)


def test_fargate_task_cpu_and_memory_are_a_supported_combination(stack):
    """Fargate accepts only the task sizes in its table (CPU units -> memory MiB):
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size"""
    sizes = {256: [512, 1024, 2048], 512: range(1024, 4097, 1024), 1024: range(2048, 8193, 1024),
             2048: range(4096, 16385, 1024), 4096: range(8192, 30721, 1024),
             8192: range(16384, 61441, 4096), 16384: range(32768, 122881, 8192)}
    tasks = {lid: stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::ECS::TaskDefinition")}
    fargate = {lid: p for lid, p in tasks.items() if "FARGATE" in (p.get("RequiresCompatibilities") or [])}
    assert fargate, "no Fargate task definition: this rule has nothing to check"
    for lid, p in fargate.items():
        cpu, memory = int(stack.resolve(p["Cpu"])), int(stack.resolve(p["Memory"]))
        assert memory in sizes.get(cpu, []), f"{lid}: Fargate has no task size cpu={cpu} memory={memory}"


def test_ecs_health_check_grace_period_covers_the_target_groups_first_health_checks(stack):
    """ECS: healthCheckGracePeriodSeconds (0 to 2147483647) is the time the
    scheduler ignores load balancer health checks after a task starts; a
    load-balanced service that does not set it gets 0:
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-healthCheckGracePeriodSeconds
    AWS does not require it; Otter's rule: a load-balanced service sets it, at
    least as long as its target groups need to mark a new task healthy
    (HealthyThresholdCount x HealthCheckIntervalSeconds), so a starting relay
    is not stopped for failing checks it has not had time to pass.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html"""
    services = load_balanced_services(stack)
    assert services, "no load-balanced ECS service: this rule has nothing to check"
    for sid, svc in services.items():
        grace = svc.get("HealthCheckGracePeriodSeconds")
        assert grace is not None, f"{sid}: load-balanced service without HealthCheckGracePeriodSeconds"
        assert 0 <= int(grace) <= 2147483647
        for lb in svc["LoadBalancers"]:
            tg = stack.prune(stack.props(ref_id(lb["TargetGroupArn"])))
            needed = int(tg.get("HealthyThresholdCount", 5)) * int(tg.get("HealthCheckIntervalSeconds", 30))
            assert int(grace) >= needed, f"{sid}: grace {grace}s < {needed}s for {ref_id(lb['TargetGroupArn'])} to turn healthy"


def test_ecs_service_depends_on_the_listener_of_its_target_group(stack):
    """ECS refuses to create a service whose target group is not yet attached to
    a load balancer ("The target group ... does not have an associated load
    balancer"), and CloudFormation creates the target group and the listener in
    any order unless told: the service must depend on the listener.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html"""
    listeners = stack.of_type("AWS::ElasticLoadBalancingV2::Listener")
    for sid, svc in load_balanced_services(stack).items():
        deps = stack.dependencies(sid)
        for lb in svc["LoadBalancers"]:
            tg = ref_id(lb["TargetGroupArn"])
            forwarding = [l for l, r in listeners.items() if tg in stack.refs(r.get("Properties"))]
            assert forwarding, f"{sid}: no listener forwards to {tg}"
            assert any(l in deps for l in forwarding), f"{sid} does not depend on a listener of {tg} ({forwarding})"


def test_awsvpc_services_register_ip_targets(stack):
    """A service whose tasks use the awsvpc network mode (all Fargate tasks)
    must use target groups with target type ip, not instance:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html (and nlb.html)"""
    for sid, svc in load_balanced_services(stack).items():
        task = stack.prune(stack.props(ref_id(svc["TaskDefinition"])))
        if task.get("NetworkMode") != "awsvpc":
            continue
        for lb in svc["LoadBalancers"]:
            tg = stack.prune(stack.props(ref_id(lb["TargetGroupArn"])))
            assert tg.get("TargetType") == "ip", f"{sid}: {ref_id(lb['TargetGroupArn'])} must have TargetType ip"


def test_container_images_are_pinned_by_tag_or_digest(stack):
    """Otter's rule: an image without a tag is `latest`
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image),
    so a new upstream release would ride in on the next task start or
    redeploy, and with the deployment circuit breaker a bad one rolls back.
    Every container image names a version tag (not latest) or a digest."""
    images = [stack.resolve(c["Image"]) for lid in stack.of_type("AWS::ECS::TaskDefinition")
              for c in stack.prune(stack.props(lid))["ContainerDefinitions"]]
    assert images
    for image in images:
        name = image.rsplit("/", 1)[-1]
        assert "@sha256:" in image or (":" in name and not name.endswith(":latest")), f"image {image!r} is not pinned"


def test_relay_answers_turn_over_tcp_443(stack):
    """Otter's rule (DESIGN: TURN on UDP 3478 and TCP
    3478/443): users behind firewalls that allow only 443 reach the relay.
    A listener on 443 (TCP, or TLS with a domain: TLS ends at the NLB) forwards
    to a target group the relay service registers with.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-listeners.html"""
    registered = {ref_id(lb["TargetGroupArn"]) for svc in load_balanced_services(stack).values()
                  for lb in svc["LoadBalancers"]}
    on_443 = [stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::ElasticLoadBalancingV2::Listener")
              if int(stack.props(lid).get("Port", 0)) == 443]
    assert any(l.get("Protocol") in ("TCP", "TLS") and any(ref_id(a.get("TargetGroupArn")) in registered
                                                             for a in l.get("DefaultActions") or [])
               for l in on_443), f"no TCP/TLS listener on 443 forwards to the relay's target groups {registered}"


# ---------------------------------------------------------------- VPC: the internet gateway race

def _vpc_of(stack, value):
    lid = ref_id(value)
    return ref_id(stack.props(lid).get("VpcId")) if lid else None


def test_public_load_balancers_and_public_ip_services_depend_on_the_gateway_attachment_and_default_route(stack):
    """CloudFormation, "When a DependsOn attribute is required": resources that
    need a public address (an internet-facing load balancer, ECS tasks with
    AssignPublicIp) must depend on the VPC's gateway attachment; otherwise
    creation can fail ("VPC ... has no internet gateway") and deletion stalls
    ("... has some mapped public address(es)"). And on the default route, so
    the tasks can reach the internet (image pull, Secrets Manager) when they
    start. A dependency through other resources (transitive) orders them too.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html#gatewayattachment"""
    public = {}
    for lid, r in stack.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer").items():
        p = stack.prune(r.get("Properties") or {})
        if p.get("Scheme", "internet-facing") == "internet-facing":
            public[lid] = p.get("Subnets") or [m["SubnetId"] for m in p.get("SubnetMappings") or []]
    for lid in stack.of_type("AWS::ECS::Service"):
        vpc_cfg = (stack.prune(stack.props(lid)).get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
        if vpc_cfg.get("AssignPublicIp") == "ENABLED":
            public[lid] = vpc_cfg.get("Subnets") or []
    assert public, "no internet-facing load balancer or public-IP service: this rule has nothing to check"
    attachments = {lid: stack.props(lid) for lid in stack.of_type("AWS::EC2::VPCGatewayAttachment")
                   if "InternetGatewayId" in stack.props(lid)}
    gateways = {ref_id(p["InternetGatewayId"]) for p in attachments.values()}
    routes = {lid for lid, r in stack.of_type("AWS::EC2::Route").items()
              if r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
              and ref_id(r["Properties"].get("GatewayId")) in gateways}
    problems = []
    for lid, subnets in public.items():
        vpcs = {_vpc_of(stack, s) for s in subnets}
        needed = [a for a, p in attachments.items() if ref_id(p["VpcId"]) in vpcs]
        needed += [r for r in routes if _vpc_of(stack, stack.props(r)["RouteTableId"]) in vpcs]
        if not any(a in attachments for a in needed):
            problems.append(f"{lid}: its VPC has no internet gateway attachment")
        deps = stack.dependencies(lid)
        problems += [f"{lid} does not depend on {n}" for n in sorted(needed) if n not in deps]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- Network Load Balancer

def test_udp_target_groups_health_check_over_tcp_or_http(stack):
    """NLB target groups: UDP, TCP_UDP, TLS and GENEVE are not health check
    protocols; a UDP or TCP_UDP target group must check over TCP, HTTP or HTTPS
    (the NLB default is TCP).
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html"""
    groups = {lid: stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::ElasticLoadBalancingV2::TargetGroup")}
    assert groups, "no target group: this rule has nothing to check"
    for lid, tg in groups.items():
        hc = tg.get("HealthCheckProtocol", "TCP")
        assert hc in ("TCP", "HTTP", "HTTPS"), f"{lid} ({tg.get('Protocol')}): health check protocol {hc} is refused"


def test_nlb_listeners_use_valid_protocols_ports_and_tls_settings(stack):
    """NLB listeners: protocols TCP, TLS, UDP, TCP_UDP; ports 1-65535; a TLS
    listener needs exactly one default certificate (and Otter pins its
    SslPolicy to a TLS 1.2+ policy rather than the ELB default); a TCP_UDP
    listener must forward to a TCP_UDP target group; two listeners of one load
    balancer cannot share a port on the same transport (TCP_UDP takes both).
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-listeners.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html"""
    lbs = stack.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")
    listeners = {lid: stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::ElasticLoadBalancingV2::Listener")}
    assert listeners, "no listener: this rule has nothing to check"
    transports = {"TCP": {"tcp"}, "TLS": {"tcp"}, "UDP": {"udp"}, "TCP_UDP": {"tcp", "udp"}}
    taken = {}
    problems = []
    for lid, l in sorted(listeners.items()):
        lb = ref_id(l["LoadBalancerArn"])
        if stack.props(lb).get("Type") != "network":
            continue
        proto, port = l.get("Protocol"), int(l.get("Port", 0))
        if proto not in transports:
            problems.append(f"{lid}: protocol {proto} is not an NLB listener protocol")
            continue
        if not 1 <= port <= 65535:
            problems.append(f"{lid}: port {port}")
        for t in transports[proto]:
            if (lb, port, t) in taken:
                problems.append(f"{lid}: {t} port {port} already used by {taken[(lb, port, t)]}")
            taken[(lb, port, t)] = lid
        if proto == "TLS":
            certs = l.get("Certificates") or []
            if len(certs) != 1 or not all(c.get("CertificateArn") for c in certs):
                problems.append(f"{lid}: a TLS listener needs exactly one default certificate, has {certs}")
            policy = l.get("SslPolicy")
            if not (isinstance(policy, str) and policy.startswith("ELBSecurityPolicy-")
                    and re.search(r"TLS13-1-2|TLS-1-2|FS-1-2", policy)):
                problems.append(f"{lid}: TLS listener SslPolicy {policy!r} is not a TLS 1.2+ ELB policy")
        elif l.get("Certificates") or l.get("SslPolicy"):
            problems.append(f"{lid}: certificates/SslPolicy only apply to TLS listeners")
        for action in l.get("DefaultActions") or []:
            tgs = [action.get("TargetGroupArn")] + [t["TargetGroupArn"] for t in
                                                     (action.get("ForwardConfig") or {}).get("TargetGroups") or []]
            for tg in filter(None, tgs):
                tg_proto = stack.props(ref_id(tg)).get("Protocol")
                if proto == "TCP_UDP" and tg_proto != "TCP_UDP":
                    problems.append(f"{lid}: a TCP_UDP listener must forward to a TCP_UDP target group, {ref_id(tg)} is {tg_proto}")
    assert lbs
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- API Gateway

def test_websocket_authorizer_only_on_connect(stack):
    """API Gateway WebSocket APIs authorize only the $connect route; other
    routes run on the authorized connection:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-control-access.html"""
    ws = websocket_apis(stack)
    assert ws, "no WebSocket API: this rule has nothing to check"
    routes = {lid: stack.props(lid) for lid in stack.of_type("AWS::ApiGatewayV2::Route")
              if ref_id(stack.props(lid)["ApiId"]) in ws}
    assert any(r["RouteKey"] == "$connect" for r in routes.values())
    for lid, r in routes.items():
        if r["RouteKey"] == "$connect":
            continue
        assert r.get("AuthorizationType", "NONE") == "NONE" and "AuthorizerId" not in r, \
            f"{lid} ({r['RouteKey']}): authorization on a WebSocket route other than $connect"


def test_websocket_authorizers_are_request_authorizers(stack):
    """WebSocket APIs support only REQUEST Lambda authorizers (no TOKEN or JWT):
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigatewayv2-authorizer.html"""
    ws = websocket_apis(stack)
    for lid, a in stack.of_type("AWS::ApiGatewayV2::Authorizer").items():
        if ref_id(a["Properties"]["ApiId"]) in ws:
            assert a["Properties"]["AuthorizerType"] == "REQUEST", lid


def test_handlers_frame_limit_fits_api_gateway_websocket_frames():
    """API Gateway WebSocket APIs: frames are at most 32 KB (a larger frame
    closes the socket with 1009) and messages at most 128 KB. The handlers'
    own limit (Templates/limits.json maxFrameBytes, which otter_common
    reads), which answers `too-large`, must not promise more than API Gateway
    delivers. KB read as 1024 bytes, as API Gateway's quota table uses it.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html#apigateway-execution-service-websocket-limits-table"""
    limit = json.loads((LAMBDA_DIR.parent / "limits.json").read_text())["maxFrameBytes"]
    assert 0 < limit <= 32 * 1024, f"limits.json maxFrameBytes = {limit}, API Gateway frames are at most 32 KB"
    assert limit <= 128 * 1024


def test_websocket_stage_logging_has_the_account_cloudwatch_role(stack):
    """API Gateway refuses a WebSocket (or REST) stage with access or execution
    logging until the account's CloudWatch Logs role is set: "BadRequestException:
    CloudWatch Logs role ARN must be set in account settings to enable logging"
    (HTTP APIs do not need it). On a fresh account the stack must set it
    (AWS::ApiGateway::Account) and the stage must depend on that.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html
    (evidence: https://github.com/sst/ion/issues/373)"""
    ws = websocket_apis(stack)
    accounts = [lid for lid, r in stack.of_type("AWS::ApiGateway::Account").items()
                if r["Properties"].get("CloudWatchRoleArn")]
    for lid, r in stack.of_type("AWS::ApiGatewayV2::Stage").items():
        p = stack.prune(r["Properties"])
        if ref_id(p["ApiId"]) not in ws:
            continue
        defaults = p.get("DefaultRouteSettings") or {}
        logging = p.get("AccessLogSettings") or defaults.get("LoggingLevel", "OFF") != "OFF" or defaults.get("DataTraceEnabled")
        if logging:
            assert accounts, f"{lid}: logging on a WebSocket stage needs AWS::ApiGateway::Account with CloudWatchRoleArn"
            assert any(a in stack.dependencies(lid) for a in accounts), f"{lid} must depend on {accounts}"


def test_every_api_stage_writes_access_logs(stack):
    """Otter's rule: both API stages write access logs to a
    log group of the stack. Access log settings (DestinationArn, Format):
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html"""
    stages = {lid: stack.prune(r["Properties"]) for lid, r in stack.of_type("AWS::ApiGatewayV2::Stage").items()}
    apis = {ref_id(p["ApiId"]) for p in stages.values()}
    assert apis == set(stack.of_type("AWS::ApiGatewayV2::Api")), "every API has a stage"
    for lid, p in stages.items():
        settings = p.get("AccessLogSettings") or {}
        assert settings.get("DestinationArn") and settings.get("Format"), f"{lid}: no access logs"
        group = ref_id(settings["DestinationArn"])
        assert group in stack.of_type("AWS::Logs::LogGroup"), f"{lid}: access logs go to {settings['DestinationArn']}"


def test_lambda_behind_api_gateway_times_out_before_the_integration(stack):
    """API Gateway gives a Lambda integration at most 29 s (WebSocket) or 30 s
    (HTTP API) before answering 504/"Internal server error"; a longer Lambda
    timeout keeps running after the client was told it failed.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"""
    functions = lambda_functions(stack)
    ws = websocket_apis(stack)
    for lid, r in stack.of_type("AWS::ApiGatewayV2::Integration").items():
        p = r["Properties"]
        targets = stack.refs(p.get("IntegrationUri")) & set(functions)
        limit = 29 if ref_id(p["ApiId"]) in ws else 30
        for fn in targets:
            assert int(functions[fn].get("Timeout", 3)) <= limit, f"{fn} behind {lid}: timeout over {limit}s"


def test_api_gateway_may_invoke_every_function_it_routes_to(stack):
    """API Gateway invokes a Lambda function only if the function's resource
    policy (AWS::Lambda::Permission) allows apigateway.amazonaws.com from the
    invoking source ARN: API/STAGE/METHOD/PATH for an HTTP API route,
    API/STAGE/ROUTEKEY for a WebSocket route, API/authorizers/ID for an
    authorizer; otherwise the client gets a 500 ("Invalid permissions on
    Lambda function") and moto notices nothing.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html"""
    functions = set(stack.of_type("AWS::Lambda::Function"))
    stages = {}
    for r in stack.of_type("AWS::ApiGatewayV2::Stage").values():
        stages.setdefault(ref_id(r["Properties"]["ApiId"]), []).append(r["Properties"]["StageName"])
    allowed = {}  # function -> [source ARN patterns]
    for lid, r in stack.of_type("AWS::Lambda::Permission").items():
        p = stack.prune(r["Properties"])
        if p.get("Principal") == "apigateway.amazonaws.com" and p.get("Action") == "lambda:InvokeFunction":
            for fn in stack.refs(p["FunctionName"]) & functions:
                allowed.setdefault(fn, []).append(stack.resolve(p.get("SourceArn", "*")))
    prefix = f"arn:aws:execute-api:{cfn_model.REGION}:{cfn_model.ACCOUNT}:"
    needed = []  # (what, function, source ARN)
    integrations = stack.of_type("AWS::ApiGatewayV2::Integration")
    for lid, r in stack.of_type("AWS::ApiGatewayV2::Route").items():
        p = r["Properties"]
        api = ref_id(p["ApiId"])
        for integration in stack.refs(p.get("Target")) & set(integrations):
            for fn in stack.refs(integrations[integration]["Properties"].get("IntegrationUri")) & functions:
                key = p["RouteKey"]
                path = key if key.startswith("$") else key.replace(" /", "/", 1)
                for stage in stages.get(api, []):
                    needed.append((lid, fn, f"{prefix}{stack.ref_value(api)}/{stage}/{path}"))
    for lid, r in stack.of_type("AWS::ApiGatewayV2::Authorizer").items():
        p = r["Properties"]
        for fn in stack.refs(p.get("AuthorizerUri")) & functions:
            needed.append((lid, fn, f"{prefix}{stack.ref_value(ref_id(p['ApiId']))}/authorizers/{stack.ref_value(lid)}"))
    assert needed
    problems = [f"{what}: {fn} does not allow API Gateway from {arn} (allows {allowed.get(fn, [])})"
                for what, fn, arn in needed
                if not any(cfn_model.resource_matches(pattern, arn) for pattern in allowed.get(fn, []))]
    assert not problems, "\n".join(problems)


def test_handlers_post_to_a_stage_of_the_websocket_api(stack):
    """The management API of a WebSocket API is
    https://API.execute-api.REGION.amazonaws.com/STAGE/@connections: a
    handler's WS_ENDPOINT must name the WebSocket API and one of its stages,
    or every post fails on AWS (moto answers any).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html"""
    ws = websocket_apis(stack)
    endpoints = {(stack.ref_value(ref_id(r["Properties"]["ApiId"])), r["Properties"]["StageName"])
                 for r in stack.of_type("AWS::ApiGatewayV2::Stage").values() if ref_id(r["Properties"]["ApiId"]) in ws}
    found = 0
    for lid, p in lambda_functions(stack).items():
        url = ((p.get("Environment") or {}).get("Variables") or {}).get("WS_ENDPOINT")
        if url is None:
            continue
        found += 1
        m = re.fullmatch(rf"https://([a-z0-9]+)\.execute-api\.{cfn_model.REGION}\.amazonaws\.com/([^/]+)", stack.resolve(url))
        assert m and m.groups() in endpoints, f"{lid}: WS_ENDPOINT {stack.resolve(url)} is not a stage of {sorted(endpoints)}"
    assert found, "no handler has WS_ENDPOINT"


# ---------------------------------------------------------------- CloudWatch Logs

LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653}


def test_log_group_retention_is_one_cloudwatch_accepts(stack):
    """CloudWatch Logs accepts only these retention periods (days):
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
    Otter sets one on every log group (none kept forever)."""
    groups = {lid: stack.prune(r.get("Properties") or {}) for lid, r in stack.of_type("AWS::Logs::LogGroup").items()}
    assert groups
    bad = {lid: p.get("RetentionInDays") for lid, p in groups.items()
           if p.get("RetentionInDays") not in LOG_RETENTION_DAYS}
    assert bad == {}


# ---------------------------------------------------------------- IAM

# Actions that have no resource-level permissions: the Service Authorization
# Reference lists no resource type for them, so "*" is the only Resource.
NO_RESOURCE_LEVEL = {
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
    "ec2:DescribeNetworkInterfaces": "list_amazonec2.html",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    "ecr:GetAuthorizationToken": "list_amazonelasticcontainerregistry.html",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    "cloudwatch:PutMetricData": "list_amazoncloudwatch.html",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
    "xray:PutTraceSegments": "list_awsx-ray.html",
    "xray:PutTelemetryRecords": "list_awsx-ray.html",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
    "sts:GetCallerIdentity": "list_awssecuritytokenservice.html",
}

# IAM actions whose names are not an API operation of the service's botocore
# model (the rest are checked against botocore's operation names).
# https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
IAM_ONLY_ACTIONS = {
    "dynamodb:ConditionCheckItem",  # list_amazondynamodb.html (TransactWriteItems' ConditionCheck)
    "execute-api:ManageConnections", "execute-api:Invoke", "execute-api:InvalidateCache",  # list_amazonapigateway.html
    "lambda:InvokeFunction",  # list_awslambda.html (the API operation is Invoke)
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectVersion",  # list_amazons3.html
}
# IAM prefix -> botocore service whose operation names are the IAM actions.
BOTOCORE_SERVICE = {"dynamodb": "dynamodb", "logs": "logs", "secretsmanager": "secretsmanager", "ec2": "ec2",
                    "ecs": "ecs", "ecr": "ecr", "sts": "sts", "lambda": "lambda", "iam": "iam", "kms": "kms",
                    "cloudwatch": "cloudwatch", "ssm": "ssm", "xray": "xray", "sqs": "sqs", "sns": "sns",
                    "application-autoscaling": "application-autoscaling", "elasticloadbalancing": "elbv2",
                    "cloudformation": "cloudformation", "acm": "acm", "s3": None, "execute-api": None}


@functools.lru_cache(maxsize=None)
def _operations(service):
    import botocore.session
    return {op.lower() for op in botocore.session.get_session().get_service_model(service).operation_names}


def test_iam_actions_are_well_formed_and_exist(stack):
    """IAM actions are `service-prefix:ActionName` (wildcards allowed); a
    misspelt action is accepted by IAM and grants nothing.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"""
    problems = []
    iam_only = {a.lower() for a in IAM_ONLY_ACTIONS}
    for where, action in actions_in_template(stack):
        if action == "*":
            problems.append(f"{where}: Action '*'")
            continue
        m = re.fullmatch(r"([a-z0-9-]+):([A-Za-z0-9*?]+)", action or "")
        if not m:
            problems.append(f"{where}: {action!r} is not service:Action")
            continue
        prefix, name = m.groups()
        if prefix not in BOTOCORE_SERVICE:
            problems.append(f"{where}: unknown service prefix {prefix!r} (add it to BOTOCORE_SERVICE)")
            continue
        if action.lower() in iam_only:
            continue
        known = {f"{prefix}:{a.split(':')[1].lower()}" for a in iam_only if a.startswith(prefix + ":")}
        if BOTOCORE_SERVICE[prefix]:
            known |= {f"{prefix}:{op}" for op in _operations(BOTOCORE_SERVICE[prefix])}
        if not any(cfn_model.action_matches(action, k) for k in known):
            problems.append(f"{where}: {action} names no {prefix} action")
    assert not problems, "\n".join(problems)


ARN_RE = re.compile(r"arn:aws:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|):(?P<resource>.+)")


def test_iam_resources_are_well_formed_arns_of_the_actions_service(stack):
    """Each Resource is "*" or an ARN (arn:partition:service:region:account:resource)
    of the service its actions belong to. A Ref that returns a name (a DynamoDB
    table's Ref is its name) in place of an ARN grants nothing.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"""
    problems = []
    for where, kind, s in policy_statements(stack):
        if kind == "trust" or "Resource" not in s:
            continue
        prefixes = {a.split(":")[0] for a in as_list(s.get("Action") or [])}
        for r in as_list(stack.resolve(s["Resource"])):
            if r == "*":
                continue
            m = ARN_RE.fullmatch(r)
            if not m:
                problems.append(f"{where}: {r!r} is not an ARN")
                continue
            if prefixes and prefixes != {m["service"]}:
                problems.append(f"{where}: actions of {sorted(prefixes)} on an ARN of {m['service']}: {r}")
            global_service = m["service"] in ("iam", "s3", "cloudfront", "route53")
            if bool(m["region"]) == global_service and m["service"] != "s3":
                problems.append(f"{where}: region part of {r}")
    assert not problems, "\n".join(problems)


def test_manage_connections_resources_name_api_stage_verb_and_connections(stack):
    """execute-api:ManageConnections is granted per API, stage and HTTP verb:
    arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/VERB/@connections/ID with VERB
    POST (PostToConnection), GET (GetConnection), DELETE (DeleteConnection).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html"""
    ws = websocket_apis(stack)
    stage_names = {(stack.ref_value(ref_id(r["Properties"]["ApiId"])), r["Properties"]["StageName"])
                   for r in stack.of_type("AWS::ApiGatewayV2::Stage").values() if ref_id(r["Properties"]["ApiId"]) in ws}
    pattern = re.compile(rf"arn:aws:execute-api:{cfn_model.REGION}:{cfn_model.ACCOUNT}:"
                         r"(?P<api>[a-z0-9]+)/(?P<stage>[^/]+)/(?P<verb>POST|GET|DELETE|\*)/@connections/\*")
    grants = 0
    for where, kind, s in policy_statements(stack):
        if kind != "identity" or not any(cfn_model.action_matches(a, "execute-api:ManageConnections")
                                         for a in as_list(s.get("Action") or [])):
            continue
        for r in as_list(stack.resolve(s["Resource"])):
            grants += 1
            m = pattern.fullmatch(r)
            assert m, f"{where}: {r} is not API/STAGE/VERB/@connections/*"
            assert (m["api"], m["stage"]) in stage_names, f"{where}: {r} names no stage of a WebSocket API {stage_names}"
    assert grants, "no execute-api:ManageConnections grant: the handlers cannot post to connections"


def test_wildcard_resource_only_for_actions_without_resource_level_permissions(stack):
    """Least privilege: Resource "*" only for actions that have no resource
    types in the Service Authorization Reference (NO_RESOURCE_LEVEL, each with
    its page). https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"""
    problems = []
    for where, kind, s in policy_statements(stack):
        if kind != "identity" or s.get("Effect") != "Allow":
            continue
        if "*" in as_list(stack.resolve(s.get("Resource", "*"))):
            wide = [a for a in as_list(s.get("Action") or ["NotAction"]) if a not in NO_RESOURCE_LEVEL]
            if wide:
                problems.append(f"{where}: {wide} on Resource '*'")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- Lambda

LAMBDA_RESERVED_ENV = {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
                       "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                       "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                       "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                       "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}


def test_lambda_runtime_is_python312(stack):
    """The handlers are written for and tested on Python 3.12; python3.12 is a
    supported Lambda runtime: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"""
    functions = lambda_functions(stack)
    assert functions
    assert {lid: p.get("Runtime") for lid, p in functions.items() if p.get("Runtime") != "python3.12"} == {}


def test_lambda_handlers_exist_in_the_handler_folder(stack):
    """Handler is FILE.FUNCTION of the zip (`otter deploy` zips Templates/lambda);
    a missing one fails every invocation with Runtime.ImportModuleError:
    https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html"""
    for lid, p in lambda_functions(stack).items():
        module, _, function = p["Handler"].rpartition(".")
        path = LAMBDA_DIR / f"{module.replace('.', '/')}.py"
        assert path.is_file(), f"{lid}: {p['Handler']} but no {path.relative_to(ROOT)}"
        names = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        names |= {t.id for n in ast.parse(path.read_text()).body if isinstance(n, ast.Assign) for t in n.targets
                  if isinstance(t, ast.Name)}
        assert function in names, f"{lid}: {path.name} defines no {function}"


def test_lambda_memory_and_timeout_within_lambda_limits(stack):
    """Memory 128-10240 MB, timeout 1-900 s:
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"""
    for lid, p in lambda_functions(stack).items():
        assert 128 <= int(p.get("MemorySize", 128)) <= 10240, lid
        assert 1 <= int(p.get("Timeout", 3)) <= 900, lid


def test_lambda_environment_uses_no_reserved_names(stack):
    """Lambda refuses the runtime's reserved environment variables (AWS_REGION,
    AWS_ACCESS_KEY_ID, _HANDLER, ...); keys match [a-zA-Z]([a-zA-Z0-9_])+ and
    all variables together fit in 4 KB.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html"""
    for lid, p in lambda_functions(stack).items():
        variables = (p.get("Environment") or {}).get("Variables") or {}
        reserved = sorted(k for k in variables if k in LAMBDA_RESERVED_ENV)
        assert reserved == [], f"{lid}: reserved variable(s) {reserved}"
        bad = sorted(k for k in variables if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]+", k))
        assert bad == [], f"{lid}: invalid variable name(s) {bad}"
        size = sum(len(k) + len(str(stack.resolve(v))) for k, v in variables.items())
        assert size <= 4096, f"{lid}: {size} bytes of environment"


# ---------------------------------------------------------------- names

NAME_LIMITS = {  # type: (property, max length, AWS page)
    "AWS::ElasticLoadBalancingV2::TargetGroup": ("Name", 32, "API_CreateTargetGroup.html"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ("Name", 32, "API_CreateLoadBalancer.html"),
    "AWS::IAM::Role": ("RoleName", 64, "API_CreateRole.html"),
    "AWS::Lambda::Function": ("FunctionName", 64, "API_CreateFunction.html"),
    "AWS::Logs::LogGroup": ("LogGroupName", 512, "API_CreateLogGroup.html"),
    "AWS::DynamoDB::Table": ("TableName", 255, "HowItWorks.NamingRulesDataTypes.html"),
    "AWS::ECS::Cluster": ("ClusterName", 255, "API_CreateCluster.html"),
    "AWS::ECS::Service": ("ServiceName", 255, "API_CreateService.html"),
    "AWS::SecretsManager::Secret": ("Name", 512, "API_CreateSecret.html"),
    "AWS::ApplicationAutoScaling::ScalingPolicy": ("PolicyName", 256, "API_PutScalingPolicy.html"),
}


def test_explicit_names_fit_aws_length_limits_with_the_longest_stack_name(long_named_stack):
    """AWS limits names: target group and load balancer 32 characters (letters,
    digits, hyphens, not at either end), IAM role 64, Lambda function 64, IAM
    inline policy 128, ... (NAME_LIMITS, each from the service's API reference,
    e.g. https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html,
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html).
    Names CloudFormation derives from logical ids fit by construction; explicit
    ones are resolved with the longest stack name `otter --stack` accepts (128)."""
    stack = long_named_stack
    problems = []
    for lid, r in stack.resources.items():
        rule = NAME_LIMITS.get(r["Type"])
        p = stack.prune(r.get("Properties") or {})
        if rule and rule[0] in p:
            name = str(stack.resolve(p[rule[0]]))
            if len(name) > rule[1]:
                problems.append(f"{lid}.{rule[0]} is {len(name)} characters (limit {rule[1]}, {rule[2]})")
            if r["Type"].startswith("AWS::ElasticLoadBalancingV2") and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", name):
                problems.append(f"{lid}.Name {name!r}: letters, digits and inner hyphens only")
        if r["Type"] == "AWS::IAM::Role":
            for policy in p.get("Policies") or []:
                if len(str(stack.resolve(policy["PolicyName"]))) > 128:
                    problems.append(f"{lid}: inline policy name over 128 characters")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- DynamoDB

def _config_table(stack):
    """The table the handlers use as CONFIG_TABLE (it holds the API key hash)."""
    tables = {ref_id(v) for p in lambda_functions(stack).values()
              for k, v in ((p.get("Environment") or {}).get("Variables") or {}).items() if k == "CONFIG_TABLE"}
    assert len(tables) == 1, f"CONFIG_TABLE names {tables}"
    return tables.pop()


def test_dynamodb_ttl_is_one_number_attribute_per_table(stack):
    """DynamoDB: a table has at most one TTL attribute (one
    TimeToLiveSpecification), and TTL only acts on a Number attribute holding
    epoch seconds (a key attribute declared S or B would never expire):
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html"""
    for lid, r in stack.of_type("AWS::DynamoDB::Table").items():
        p = r["Properties"]
        ttl = p.get("TimeToLiveSpecification")
        assert ttl is None or isinstance(ttl, dict), f"{lid}: one TimeToLiveSpecification"
        if ttl and ttl.get("Enabled"):
            types = {a["AttributeName"]: a["AttributeType"] for a in p.get("AttributeDefinitions") or []}
            assert types.get(ttl["AttributeName"], "N") == "N", f"{lid}: TTL attribute {ttl['AttributeName']} is not a Number"


def test_config_table_has_point_in_time_recovery(stack):
    """Otter's rule: the table holding the API key hash
    (CONFIG_TABLE) can be restored.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html"""
    lid = _config_table(stack)
    pitr = stack.prune(stack.props(lid)).get("PointInTimeRecoverySpecification") or {}
    assert pitr.get("PointInTimeRecoveryEnabled") is True, f"{lid}: no point-in-time recovery"


# ---------------------------------------------------------------- scaling

def test_relay_scale_in_waits_for_relayed_calls(stack):
    """Otter's rule: an NLB pins a UDP flow to one task and
    stopping that task ends the allocation, so a relay scale-in waits at least
    10 minutes after the last scaling activity (ScaleInCooldown >= 600 s).
    Target tracking configuration:
    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/network-load-balancers.html (flow pinning)"""
    policies = {lid: stack.prune(stack.props(lid)) for lid in stack.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")}
    targets = stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    scales = any(int(stack.resolve(t["Properties"]["MinCapacity"])) < int(stack.resolve(t["Properties"]["MaxCapacity"]))
                 for t in targets.values())
    assert bool(policies) == scales, "a scaling policy exactly when min < max"
    for lid, p in policies.items():
        cfg = p.get("TargetTrackingScalingPolicyConfiguration")
        assert cfg is not None, f"{lid}: only target tracking is modelled here"
        assert int(cfg.get("ScaleInCooldown", 300)) >= 600, f"{lid}: ScaleInCooldown {cfg.get('ScaleInCooldown', 300)}s < 600s"


# ---------------------------------------------------------------- the rules can fail (and pass)

def _first(t, rtype, pred=lambda lid, p: True):
    return next(lid for lid, r in t["Resources"].items() if r["Type"] == rtype and pred(lid, r.get("Properties") or {}))


def _props(t, lid):
    return t["Resources"][lid]["Properties"]


def _ws_api(t):
    return _first(t, "AWS::ApiGatewayV2::Api", lambda _, p: p.get("ProtocolType") == "WEBSOCKET")


def _ws_route(t, connect):
    api = _ws_api(t)
    return _first(t, "AWS::ApiGatewayV2::Route",
                  lambda _, p: p["ApiId"] == {"Ref": api} and (p["RouteKey"] == "$connect") == connect)


def _load_balanced_service(t):
    return _first(t, "AWS::ECS::Service", lambda _, p: bool(p.get("LoadBalancers")))


def _service_target_group(t):
    return _props(t, _load_balanced_service(t))["LoadBalancers"][0]["TargetGroupArn"]["Ref"]


def _role_statement(t, action):
    for lid, r in t["Resources"].items():
        if r["Type"] == "AWS::IAM::Role":
            for p in r["Properties"].get("Policies") or []:
                for s in p["PolicyDocument"]["Statement"]:
                    if action in as_list(s["Action"]):
                        return s
    raise AssertionError(f"no role grants {action}")


def _set(t, lid, **props):
    _props(t, lid).update(props)


def _add(t, lid, rtype, **props):
    t["Resources"][lid] = {"Type": rtype, "Properties": props}


def _nlb(t):
    return _first(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")


def _table_with_ttl(t):
    return _first(t, "AWS::DynamoDB::Table", lambda _, p: bool(p.get("TimeToLiveSpecification")))


def _add_depends_on(t, lid, *deps):
    current = t["Resources"][lid].get("DependsOn") or []
    t["Resources"][lid]["DependsOn"] = sorted(set(as_list(current)) | set(deps))


def _fix_port_mappings(t):
    svc = _props(t, _load_balanced_service(t))
    task = _props(t, svc["TaskDefinition"]["Ref"])
    for c in task["ContainerDefinitions"]:
        seen, kept = set(), []
        for m in c.get("PortMappings") or []:
            if m["ContainerPort"] not in seen:
                seen.add(m["ContainerPort"])
                kept.append(m)
        c["PortMappings"] = kept


def _fix_gateway_dependencies(t):
    attachment = _first(t, "AWS::EC2::VPCGatewayAttachment")
    route = _first(t, "AWS::EC2::Route", lambda _, p: p.get("DestinationCidrBlock") == "0.0.0.0/0")
    _add_depends_on(t, _nlb(t), attachment, route)
    _add_depends_on(t, _load_balanced_service(t), attachment, route)


def _fix_access_logs(t):
    for lid in [l for l, r in t["Resources"].items() if r["Type"] == "AWS::ApiGatewayV2::Stage"]:
        _add(t, f"{lid}AccessLogs", "AWS::Logs::LogGroup", RetentionInDays=30)
        _set(t, lid, AccessLogSettings={"DestinationArn": {"Fn::GetAtt": [f"{lid}AccessLogs", "Arn"]},
                                        "Format": '{"requestId":"$context.requestId"}'})
    # a WebSocket stage with logging also needs the account's CloudWatch role
    _add(t, "ApiGatewayLogsRole", "AWS::IAM::Role", AssumeRolePolicyDocument={"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        ManagedPolicyArns=["arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"])
    _add(t, "ApiGatewayAccount", "AWS::ApiGateway::Account",
         CloudWatchRoleArn={"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]})
    for lid in [l for l, r in t["Resources"].items() if r["Type"] == "AWS::ApiGatewayV2::Stage"]:
        _add_depends_on(t, lid, "ApiGatewayAccount")


def _fix_pitr(t):
    lid = _config_table(Stack(t))
    _set(t, lid, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def _fix_cooldown(t):
    for lid, r in t["Resources"].items():
        if r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy":
            r["Properties"]["TargetTrackingScalingPolicyConfiguration"]["ScaleInCooldown"] = 600


def _drop_api_gateway_account(t):
    """The template without the account's CloudWatch role (and what depends on it)."""
    gone = [lid for lid, r in t["Resources"].items() if r["Type"] == "AWS::ApiGateway::Account"]
    for lid in gone:
        del t["Resources"][lid]
    for r in t["Resources"].values():
        deps = r.get("DependsOn")
        if isinstance(deps, list):
            r["DependsOn"] = [d for d in deps if d not in gone]
        elif deps in gone:
            del r["DependsOn"]


def _tls_listener(t, **extra):
    # The TLS listener takes port 443's place, as `--domain` does.
    for lid in [lid for lid, r in t["Resources"].items()
                if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener" and r["Properties"].get("Port") == 443]:
        del t["Resources"][lid]
    _add(t, "TlsListener", "AWS::ElasticLoadBalancingV2::Listener", LoadBalancerArn={"Ref": _nlb(t)}, Port=443,
         Protocol="TLS", DefaultActions=[{"Type": "forward", "TargetGroupArn": {"Ref": "TlsTargets"}}], **extra)
    _add(t, "TlsTargets", "AWS::ElasticLoadBalancingV2::TargetGroup", Port=3478, Protocol="TCP", TargetType="ip",
         VpcId=_props(t, _service_target_group(t))["VpcId"])


def _tcp_udp_listener(t):
    return _first(t, "AWS::ElasticLoadBalancingV2::Listener", lambda _, p: p.get("Protocol") == "TCP_UDP")


def _tcp_443(t):
    _add(t, "Tcp443", "AWS::ElasticLoadBalancingV2::Listener", LoadBalancerArn={"Ref": _nlb(t)}, Port=443,
         Protocol="TCP", DefaultActions=[{"Type": "forward", "TargetGroupArn": {"Ref": "Tcp443Targets"}}])
    _add(t, "Tcp443Targets", "AWS::ElasticLoadBalancingV2::TargetGroup", Port=3478, Protocol="TCP", TargetType="ip",
         VpcId=_props(t, _service_target_group(t))["VpcId"])
    svc = _props(t, _load_balanced_service(t))
    svc["LoadBalancers"].append(dict(svc["LoadBalancers"][0], TargetGroupArn={"Ref": "Tcp443Targets"}))


def _ws_stage_name(t):
    api = _ws_api(t)
    return _props(t, _first(t, "AWS::ApiGatewayV2::Stage", lambda _, p: p["ApiId"] == {"Ref": api}))["StageName"]


def _drop_join_permission(t):
    join = _first(t, "AWS::Lambda::Function", lambda _, p: p["Handler"] == "ws_join.handler")
    for lid, r in list(t["Resources"].items()):
        if r["Type"] == "AWS::Lambda::Permission" and join in json.dumps(r["Properties"]["FunctionName"]):
            del t["Resources"][lid]


def _restage(t, rtype, prop):
    """``prop`` of every ``rtype`` names stage "elsewhere" instead of the WebSocket stage."""
    stage = f"/{_ws_stage_name(t)}"
    changed = 0
    for r in t["Resources"].values():
        if r["Type"] == rtype and prop in r["Properties"]:
            text = json.dumps(r["Properties"][prop])
            changed += stage in text
            r["Properties"][prop] = json.loads(text.replace(stage + "/", "/elsewhere/").replace(stage + '"', '/elsewhere"'))
    assert changed


def _memory_512(t):
    task = _props(t, _first(t, "AWS::ECS::TaskDefinition"))
    task.update(Cpu="512", Memory="512")


def _wildcard_getitem(t):
    _role_statement(t, "dynamodb:GetItem")["Resource"] = "*"


# rule -> [(what, mutation, the rule must then fail)]
RULE_CASES = [
    (test_ecs_container_port_is_used_in_one_port_mapping_only, "one mapping per port", _fix_port_mappings, False),
    (test_fargate_task_cpu_and_memory_are_a_supported_combination, "cpu 512 memory 512", _memory_512, True),
    (test_ecs_health_check_grace_period_covers_the_target_groups_first_health_checks, "no grace period",
     lambda t: _props(t, _load_balanced_service(t)).pop("HealthCheckGracePeriodSeconds"), True),
    (test_ecs_health_check_grace_period_covers_the_target_groups_first_health_checks, "grace period 5 s",
     lambda t: _set(t, _load_balanced_service(t), HealthCheckGracePeriodSeconds=5), True),
    (test_ecs_service_depends_on_the_listener_of_its_target_group, "no DependsOn",
     lambda t: t["Resources"][_load_balanced_service(t)].pop("DependsOn"), True),
    (test_awsvpc_services_register_ip_targets, "instance targets",
     lambda t: _set(t, _service_target_group(t), TargetType="instance"), True),
    (test_container_images_are_pinned_by_tag_or_digest, "coturn/coturn:4.6.3",
     lambda t: t["Parameters"]["RelayImage"].update(Default="coturn/coturn:4.6.3"), False),
    (test_container_images_are_pinned_by_tag_or_digest, "coturn/coturn:latest",
     lambda t: t["Parameters"]["RelayImage"].update(Default="coturn/coturn:latest"), True),
    (test_relay_answers_turn_over_tcp_443, "TCP 443 listener to a registered target group", _tcp_443, False),
    (test_public_load_balancers_and_public_ip_services_depend_on_the_gateway_attachment_and_default_route,
     "DependsOn attachment and route", _fix_gateway_dependencies, False),
    (test_udp_target_groups_health_check_over_tcp_or_http, "UDP health check",
     lambda t: _set(t, _service_target_group(t), HealthCheckProtocol="UDP"), True),
    (test_nlb_listeners_use_valid_protocols_ports_and_tls_settings, "TLS listener without certificate",
     lambda t: _tls_listener(t, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06"), True),
    (test_nlb_listeners_use_valid_protocols_ports_and_tls_settings, "TLS listener without SslPolicy",
     lambda t: _tls_listener(t, Certificates=[{"CertificateArn": CERTIFICATE_ARN}]), True),
    (test_nlb_listeners_use_valid_protocols_ports_and_tls_settings, "TLS listener with certificate and policy",
     lambda t: _tls_listener(t, Certificates=[{"CertificateArn": CERTIFICATE_ARN}],
                             SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06"), False),
    (test_nlb_listeners_use_valid_protocols_ports_and_tls_settings, "TCP_UDP listener to a TCP target group",
     lambda t: _set(t, _service_target_group(t), Protocol="TCP"), True),
    (test_nlb_listeners_use_valid_protocols_ports_and_tls_settings, "TCP listener on the TCP_UDP port",
     lambda t: _add(t, "Dup", "AWS::ElasticLoadBalancingV2::Listener", LoadBalancerArn={"Ref": _nlb(t)},
                    Port=_props(t, _tcp_udp_listener(t))["Port"], Protocol="TCP",
                    DefaultActions=_props(t, _tcp_udp_listener(t))["DefaultActions"]), True),
    (test_websocket_authorizer_only_on_connect, "authorizer on a message route",
     lambda t: _set(t, _ws_route(t, False), AuthorizationType="CUSTOM",
                    AuthorizerId=_props(t, _ws_route(t, True))["AuthorizerId"]), True),
    (test_websocket_authorizers_are_request_authorizers, "JWT authorizer",
     lambda t: _set(t, _first(t, "AWS::ApiGatewayV2::Authorizer",
                              lambda _, p: p["ApiId"] == {"Ref": _ws_api(t)}), AuthorizerType="JWT"), True),
    (test_websocket_stage_logging_has_the_account_cloudwatch_role, "access logs without the account role",
     lambda t: (_drop_api_gateway_account(t),
                _set(t, _first(t, "AWS::ApiGatewayV2::Stage", lambda _, p: p["ApiId"] == {"Ref": _ws_api(t)}),
                     AccessLogSettings={"DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:x",
                                        "Format": "$context.requestId"})), True),
    (test_websocket_stage_logging_has_the_account_cloudwatch_role, "access logs and the account role",
     _fix_access_logs, False),
    (test_every_api_stage_writes_access_logs, "access logs on both stages", _fix_access_logs, False),
    (test_lambda_behind_api_gateway_times_out_before_the_integration, "timeout 60 s",
     lambda t: _set(t, _first(t, "AWS::Lambda::Function", lambda _, p: p["Handler"] == "ws_join.handler"), Timeout=60),
     True),
    (test_api_gateway_may_invoke_every_function_it_routes_to, "no permission for the join route",
     _drop_join_permission, True),
    (test_api_gateway_may_invoke_every_function_it_routes_to, "permissions for another stage",
     lambda t: _restage(t, "AWS::Lambda::Permission", "SourceArn"), True),
    (test_handlers_post_to_a_stage_of_the_websocket_api, "WS_ENDPOINT on another stage",
     lambda t: _restage(t, "AWS::Lambda::Function", "Environment"), True),
    (test_log_group_retention_is_one_cloudwatch_accepts, "42 days",
     lambda t: _set(t, _first(t, "AWS::Logs::LogGroup"), RetentionInDays=42), True),
    (test_log_group_retention_is_one_cloudwatch_accepts, "kept forever",
     lambda t: _props(t, _first(t, "AWS::Logs::LogGroup")).pop("RetentionInDays"), True),
    (test_iam_actions_are_well_formed_and_exist, "dynamodb:GetItems",
     lambda t: _role_statement(t, "dynamodb:GetItem").update(Action="dynamodb:GetItems"), True),
    (test_iam_actions_are_well_formed_and_exist, "no service prefix",
     lambda t: _role_statement(t, "dynamodb:GetItem").update(Action="GetItem"), True),
    (test_iam_resources_are_well_formed_arns_of_the_actions_service, "a table's Ref (its name) as Resource",
     lambda t: _role_statement(t, "dynamodb:GetItem").update(
         Resource={"Ref": _role_statement(t, "dynamodb:GetItem")["Resource"]["Fn::GetAtt"][0]}), True),
    (test_iam_resources_are_well_formed_arns_of_the_actions_service, "a secret ARN for a DynamoDB action",
     lambda t: _role_statement(t, "dynamodb:GetItem").update(
         Resource={"Ref": _first(t, "AWS::SecretsManager::Secret")}), True),
    (test_manage_connections_resources_name_api_stage_verb_and_connections, "no verb",
     lambda t: _role_statement(t, "execute-api:ManageConnections").update(Resource={"Fn::Sub": (
         "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${%s}/v1/@connections/*" % _ws_api(t))}),
     True),
    (test_manage_connections_resources_name_api_stage_verb_and_connections, "a stage that does not exist",
     lambda t: _role_statement(t, "execute-api:ManageConnections").update(Resource={"Fn::Sub": (
         "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${%s}/nostage/POST/@connections/*"
         % _ws_api(t))}), True),
    (test_wildcard_resource_only_for_actions_without_resource_level_permissions, "GetItem on *", _wildcard_getitem,
     True),
    (test_lambda_runtime_is_python312, "python3.9",
     lambda t: _set(t, _first(t, "AWS::Lambda::Function"), Runtime="python3.9"), True),
    (test_lambda_handlers_exist_in_the_handler_folder, "ws_nope.handler",
     lambda t: _set(t, _first(t, "AWS::Lambda::Function"), Handler="ws_nope.handler"), True),
    (test_lambda_handlers_exist_in_the_handler_folder, "ws_join.nope",
     lambda t: _set(t, _first(t, "AWS::Lambda::Function"), Handler="ws_join.nope"), True),
    (test_lambda_memory_and_timeout_within_lambda_limits, "64 MB",
     lambda t: _set(t, _first(t, "AWS::Lambda::Function"), MemorySize=64), True),
    (test_lambda_environment_uses_no_reserved_names, "AWS_REGION",
     lambda t: _props(t, _first(t, "AWS::Lambda::Function")).setdefault("Environment", {}).setdefault(
         "Variables", {}).update(AWS_REGION="x"), True),
    (test_explicit_names_fit_aws_length_limits_with_the_longest_stack_name, "target group named after the stack",
     lambda t: _set(t, _service_target_group(t), Name={"Fn::Sub": "${AWS::StackName}-relay"}), True),
    (test_explicit_names_fit_aws_length_limits_with_the_longest_stack_name, "short target group name",
     lambda t: _set(t, _service_target_group(t), Name="otter-relay"), False),
    (test_dynamodb_ttl_is_one_number_attribute_per_table, "TTL on a string key",
     lambda t: _props(t, _table_with_ttl(t))["TimeToLiveSpecification"].update(
         AttributeName=_props(t, _table_with_ttl(t))["KeySchema"][0]["AttributeName"]), True),
    (test_config_table_has_point_in_time_recovery, "PITR on", _fix_pitr, False),
    (test_relay_scale_in_waits_for_relayed_calls, "cooldown 600 s", _fix_cooldown, False),
]


@pytest.mark.parametrize("rule, what, mutate, fails", RULE_CASES,
                         ids=[f"{r.__name__[5:]}-{w}" for r, w, _, _ in RULE_CASES])
def test_rule_judges_a_changed_template(templates, rule, what, mutate, fails):
    """Each rule on the default template changed in one way: a breach must
    fail it, a fix must satisfy it (so no rule passes or fails regardless)."""
    import copy
    t = copy.deepcopy(templates["default"])
    mutate(t)
    stack = Stack(t, stack_name=LONGEST_STACK_NAME) if "long_named_stack" in rule.__code__.co_varnames else Stack(t)
    if fails:
        with pytest.raises(AssertionError):
            rule(stack)
    else:
        rule(stack)
