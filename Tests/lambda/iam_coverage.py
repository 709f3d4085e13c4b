"""IAM coverage: each recorded handler call (iam_recorder.py) as the IAM
request AWS would authorize, checked against the role `otter template` gives
that handler's function.

- ``iam_requests(call)``: [(action, resource ARN)] per the Service
  Authorization Reference: DynamoDB item/query actions on the table ARN (an
  index query on TABLE/index/NAME; transactions per item action), Secrets
  Manager on the secret ARN, and the API Gateway management API as
  ``execute-api:ManageConnections`` on API/STAGE/VERB/@connections/ID.
- ``Coverage``: the template's functions (found by their Lambda ``Handler``,
  so functions that come and go need no edit here), their roles' statements
  resolved to concrete ARNs with the test environment's values (table names,
  secret ARNs, API id: the Refs the functions' environment variables carry),
  and the check.

moto does not enforce any of this (docs/NOTES-TESTING.md): this is the only
place a missing grant shows before a real deploy.
"""

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))

import apigw_events as ev  # noqa: E402
import cfn_model  # noqa: E402

ACCOUNT = ev.ACCOUNT  # moto's account, the one the handlers' calls are made in

# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
# TransactWriteItems/TransactGetItems are authorized per item action:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
_TRANSACT_ACTIONS = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem",
                     "Delete": "DeleteItem", "Get": "GetItem"}
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
_CONNECTION_VERBS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


class Unmapped(Exception):
    pass


def _table_arn(region, name):
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


def iam_requests(call, connections_target=None):
    """[(action, resource)] AWS authorizes for one recorded call.
    ``connections_target``: (api id, stage) of a management API call, when the
    endpoint it went to (moto's server, say) stands for the deployed one."""
    service, op, p = call["service"], call["operation"], call["params"]
    region = call["region"] or ev.REGION
    if service == "dynamodb":
        if op in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{op}", _table_arn(region, t)) for t in p["RequestItems"]]
        if op in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in p["TransactItems"]:
                (kind, body), = item.items()
                out.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(region, body["TableName"])))
            return out
        arn = _table_arn(region, p["TableName"])
        if p.get("IndexName"):  # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/using-identity-based-policies.html
            arn += f"/index/{p['IndexName']}"
        return [(f"dynamodb:{op}", arn)]
    if service == "secretsmanager":
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
        sid = p["SecretId"]
        return [(f"secretsmanager:{op}", sid if sid.startswith("arn:") else
                 f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{sid}")]
    if service == "apigatewaymanagementapi" and op in _CONNECTION_VERBS:
        api, stage = connections_target or management_target(call)
        return [("execute-api:ManageConnections",
                 f"arn:aws:execute-api:{region}:{ACCOUNT}:{api}/{stage}/{_CONNECTION_VERBS[op]}/@connections/{p['ConnectionId']}")]
    raise Unmapped(f"{service}.{op} has no IAM mapping in Tests/lambda/iam_coverage.py: add it "
                   "(https://docs.aws.amazon.com/service-authorization/latest/reference/)")


def management_target(call):
    """(api id, stage) of the management API endpoint a call went to."""
    url = urlsplit(call["endpoint"] or "")
    m = re.fullmatch(r"([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com", url.hostname or "")
    stage = url.path.strip("/").split("/")[0]
    if not m or not stage:
        raise Unmapped(f"{call['handler']} called the management API at {call['endpoint']!r}, not "
                       "https://API.execute-api.REGION.amazonaws.com/STAGE")
    return m.group(1), stage


def load_template():
    """The template Scripts/test wrote (OTTER_TEMPLATE), else `otter template` (OTTER_BIN)."""
    path = os.environ.get("OTTER_TEMPLATE")
    if path:
        return json.loads(Path(path).read_text())
    return cfn_model.render([])


class Coverage:
    def __init__(self, template):
        self.stack = cfn_model.Stack(template)
        self.functions = {}  # handler -> function logical id
        self.roles = {}  # function -> role logical id
        for lid, r in self.stack.of_type("AWS::Lambda::Function").items():
            p = self.stack.prune(r["Properties"])
            self.functions[p["Handler"]] = lid
            role = p["Role"].get("Fn::GetAtt", [None])[0] if isinstance(p["Role"], dict) else None
            if role not in self.stack.resources:
                raise AssertionError(f"{lid}: Role {p['Role']} is not a role of this template")
            self.roles[lid] = role
        self.ws_apis = [lid for lid, r in self.stack.of_type("AWS::ApiGatewayV2::Api").items()
                        if r["Properties"].get("ProtocolType") == "WEBSOCKET"]
        self._resolved = {}

    # ---------------------------------------------------------------- concrete values
    def concrete(self, env):
        """Logical id -> the test environment's value: every resource a
        function's environment variable Refs (tables, secrets) takes the value
        that variable has in the test, the WebSocket API the tests' API id."""
        values = {}
        for lid in self.functions.values():
            variables = (self.stack.props(lid).get("Environment") or {}).get("Variables") or {}
            for name, value in variables.items():
                if isinstance(value, dict) and list(value) == ["Ref"] and value["Ref"] in self.stack.resources \
                        and env.get(name):
                    values[value["Ref"]] = env[name]
        for api in self.ws_apis:
            values[api] = ev.WS_API_ID
        return values

    def deployed_stage(self, function, concrete):
        """The stage the function's management API calls go to once deployed:
        its WS_ENDPOINT (resolved), else the WebSocket API's only stage (the
        handlers then use the event's stage)."""
        variables = (self.stack.props(function).get("Environment") or {}).get("Variables") or {}
        if "WS_ENDPOINT" in variables:
            url = self.stack.resolve(variables["WS_ENDPOINT"], concrete)
            return urlsplit(url).path.strip("/").split("/")[0]
        stages = [r["Properties"]["StageName"] for r in self.stack.of_type("AWS::ApiGatewayV2::Stage").values()
                  if isinstance(r["Properties"]["ApiId"], dict) and r["Properties"]["ApiId"].get("Ref") in self.ws_apis]
        if len(stages) != 1:
            raise AssertionError(f"{function}: no WS_ENDPOINT and WebSocket stages {stages}")
        return stages[0]

    def statements(self, function, concrete):
        """[(origin, effect, actions, resources, condition)] of the function's
        role, resources resolved with ``concrete``."""
        key = (function, tuple(sorted(concrete.items())))
        if key not in self._resolved:
            out = []
            for origin, s in cfn_model.role_policies(self.stack, self.roles[function]):
                if s is None:
                    out.append((origin, "Managed", [], [], None))
                    continue
                res = s.get("Resource", s.get("NotResource"))
                out.append((origin, s["Effect"], s, cfn_model.as_list(self.stack.resolve(res, concrete)),
                            s.get("Condition")))
            self._resolved[key] = out
        return self._resolved[key]

    # ---------------------------------------------------------------- the check
    def deployed_requests(self, call):
        """(function, concrete, [(action, resource)]) as the deployed function
        would send them. A management API call that went to the endpoint the
        test configured (WS_ENDPOINT: a fake API host, or moto's server) goes,
        deployed, to the function's WS_ENDPOINT in the template; one that went
        to the event's domain and stage goes to the same API id and the
        deployed stage."""
        function = self.functions[call["handler"]]
        concrete = self.concrete(call["env"])
        target = None
        if call["service"] == "apigatewaymanagementapi":
            variables = (self.stack.props(function).get("Environment") or {}).get("Variables") or {}
            if "WS_ENDPOINT" in variables and call["endpoint"] == call["env"].get("WS_ENDPOINT"):
                deployed = dict(call, endpoint=self.stack.resolve(variables["WS_ENDPOINT"], concrete))
                target = management_target(deployed)
            else:
                target = (management_target(call)[0], self.deployed_stage(function, concrete))
        return function, concrete, iam_requests(call, target)

    def allowed(self, function, concrete, action, arn):
        """(allowed, [origins of matching Allow statements])."""
        allows, denied = [], False
        for origin, effect, s, resources, _ in self.statements(function, concrete):
            if effect == "Managed":
                continue
            stmt = {k: v for k, v in s.items() if k in ("Action", "NotAction")}
            stmt["Resource" if "Resource" in s else "NotResource"] = resources
            if cfn_model.statement_applies(stmt, action, arn):
                if effect == "Deny":
                    denied = True
                else:
                    allows.append(origin)
        return bool(allows) and not denied, allows

    def grants(self, function, concrete):
        """[(key, action pattern, resource)] of the Allow statements; the key
        (origin, statement, action, resource position) is the same whatever
        ``concrete`` is."""
        return [((origin, i, a, j), a, r)
                for i, (origin, effect, s, resources, _) in enumerate(self.statements(function, concrete))
                if effect == "Allow" and "Action" in s
                for a in cfn_model.as_list(s["Action"]) for j, r in enumerate(resources)]


def missing_grants(coverage, handler, calls):
    """{(action, resource): test that made the call} the role of ``handler``'s
    function does not allow (connection ids shown as *)."""
    function = coverage.functions[handler]
    missing = {}
    for c in calls:
        if c["handler"] != handler:
            continue
        try:
            _, concrete, requests = coverage.deployed_requests(c)
        except Unmapped:
            continue  # reported on its own
        for action, arn in requests:
            if not coverage.allowed(function, concrete, action, arn)[0]:
                shown = re.sub(r"/@connections/[^/]+$", "/@connections/*", arn)
                missing.setdefault((action, shown), c["test"])
    return missing
