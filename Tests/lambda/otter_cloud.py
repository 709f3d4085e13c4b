"""The Otter cloud handlers on moto: tables, secrets and the API key created
with real boto3 calls, and a small API Gateway stand-in that turns requests
and frames into API Gateway events for the handlers (routing only: every AWS
call the handlers make goes to moto).

Table definitions come from ONE place: the AWS::DynamoDB::Table resources of
the template `otter template` prints — the file named by env OTTER_TEMPLATE
(Scripts/test sets it), else made once with the built binary (OTTER_BIN).
"""

import base64
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import boto3

import apigw_events as ev

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "Templates" / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

import otter_store  # noqa: E402
import otter_tokens  # noqa: E402

ROLE_BY_HASH_KEY = {"connectionId": "CONNECTIONS_TABLE", "roomId": "ROOMS_TABLE", "id": "CONFIG_TABLE"}


# ------------------------------------------------------------------ table definitions

_made_template = None


def template_source():
    """(path, 'OTTER_TEMPLATE' | 'otter template'): the stack's own template, never a hand copy."""
    global _made_template
    path = os.environ.get("OTTER_TEMPLATE")
    if path:
        return Path(path), "OTTER_TEMPLATE"
    if _made_template is None:
        otter = os.environ.get("OTTER_BIN", str(ROOT / ".build" / "debug" / "otter"))
        if not Path(otter).exists():
            raise AssertionError(f"{otter} not built: run `swift build` (or set OTTER_TEMPLATE to `otter template`'s output)")
        out = Path(tempfile.mkdtemp(prefix="otter-template-")) / "template.json"
        subprocess.run([otter, "template", "--out", str(out)], check=True, capture_output=True, timeout=60)
        _made_template = out
    return _made_template, "otter template"


def table_definitions(path=None):
    """{'CONNECTIONS_TABLE': props, 'ROOMS_TABLE': props, 'CONFIG_TABLE': props}
    from the AWS::DynamoDB::Table resources of a CloudFormation template,
    recognised by their partition key."""
    path = Path(path) if path else template_source()[0]
    template = json.loads(path.read_text())
    found = {}
    for logical_id, res in (template.get("Resources") or {}).items():
        if res.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = res.get("Properties") or {}
        hash_key = next(k["AttributeName"] for k in props["KeySchema"] if k["KeyType"] == "HASH")
        role = ROLE_BY_HASH_KEY.get(hash_key)
        if role is None:
            raise AssertionError(f"{path}: table {logical_id} has an unexpected key {hash_key}")
        if role in found:
            raise AssertionError(f"{path}: two tables keyed by {hash_key}")
        found[role] = props
    missing = set(ROLE_BY_HASH_KEY.values()) - set(found)
    if missing:
        raise AssertionError(f"{path}: no table for {sorted(missing)}")
    return found


def create_tables(dynamodb, definitions, prefix="otter-test"):
    names = {}
    for role, props in sorted(definitions.items()):
        name = f"{prefix}-{role.split('_')[0].lower()}"
        kwargs = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] != "PAY_PER_REQUEST":
            kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        gsis = []
        for g in props.get("GlobalSecondaryIndexes") or []:
            g = {k: v for k, v in g.items() if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")}
            gsis.append(g)
        if gsis:
            kwargs["GlobalSecondaryIndexes"] = gsis
        dynamodb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled") in (True, "true"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"], "Enabled": True})
        names[role] = name
    return names


# ------------------------------------------------------------------ the environment

def handler_module(name):
    return importlib.import_module(name)


class Cloud:
    """Creates Otter's state in moto (must run inside mock_aws or against a
    moto server given by AWS_ENDPOINT_URL) and sets the handlers' environment."""

    SIGNING_SECRET = "test-signing-secret-0123456789abcdefghijklmnopqrstuvwxyz"
    TURN_SECRET = "test-turn-secret-abcdefghijklmnopqrstuvwxyz0123456789"
    WEB_APP_URL = "https://d111111abcdef8.cloudfront.net"
    TURN_URLS = "turn:relay.example.test:3478?transport=udp,turn:relay.example.test:3478?transport=tcp,stun:relay.example.test:3478"

    def __init__(self, prefix="otter-test"):
        self.ddb = boto3.client("dynamodb")
        self.tables = create_tables(self.ddb, table_definitions(), prefix)
        sm = boto3.client("secretsmanager")
        self.signing_arn = sm.create_secret(Name=f"{prefix}/signing", SecretString=self.SIGNING_SECRET)["ARN"]
        self.turn_arn = sm.create_secret(Name=f"{prefix}/turn", SecretString=self.TURN_SECRET)["ARN"]
        self.api_key = otter_tokens.new_api_key()
        self.ddb.put_item(TableName=self.tables["CONFIG_TABLE"],
                          Item={"id": {"S": "apiKey"}, "hash": {"S": otter_tokens.hash_api_key(self.api_key)}})
        self.env = {
            **self.tables,
            "SIGNING_SECRET_ARN": self.signing_arn,
            "TURN_SECRET_ARN": self.turn_arn,
            "WS_ENDPOINT": ev.WS_ENDPOINT,
            "WEB_APP_URL": self.WEB_APP_URL,
            "TURN_URLS": self.TURN_URLS,
            "MAX_PEERS_DEFAULT": "2",
        }
        os.environ.update(self.env)
        otter_store.reset_caches()

    # state, read back with boto3 for assertions
    def scan(self, role):
        items = []
        kwargs = {"TableName": self.tables[role], "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def room_item(self, room_id):
        return self.ddb.get_item(TableName=self.tables["ROOMS_TABLE"], Key={"roomId": {"S": room_id}},
                                 ConsistentRead=True).get("Item")

    def connection_item(self, connection_id):
        return self.ddb.get_item(TableName=self.tables["CONNECTIONS_TABLE"],
                                 Key={"connectionId": {"S": connection_id}}, ConsistentRead=True).get("Item")

    def stored_key_hash(self):
        return self.ddb.get_item(TableName=self.tables["CONFIG_TABLE"], Key={"id": {"S": "apiKey"}},
                                 ConsistentRead=True)["Item"]["hash"]["S"]

    def state_snapshot(self):
        """Everything the handlers can change, for 'no state change' assertions."""
        snap = {}
        for role in self.tables:
            snap[role] = sorted(json.dumps(i, sort_keys=True) for i in self.scan(role))
        return snap


# ------------------------------------------------------------------ posted messages (moto's backend)

def _mgmt_backend():
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    return apigatewaymanagementapi_backends[ev.ACCOUNT][ev.REGION]


def backend_key(connection_id):
    """moto keys connections by the percent-encoded path segment botocore sends."""
    import urllib.parse
    return urllib.parse.quote(connection_id, safe="-_.~")


def decode_stream(data):
    """moto concatenates posted payloads with no separator: decode them one by one."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    decoder = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)
    return out


class Refused(Exception):
    def __init__(self, status):
        super().__init__(f"connection refused with HTTP {status}")
        self.status = status


# The HTTP API's routes have no authorizer: each handler checks the x-api-key
# or Bearer room token itself, so every refusal is DESIGN's JSON error (a
# denying HTTP API Lambda authorizer can only answer API Gateway's own
# 403 {"message":"Forbidden"}).
OPENAPI = ROOT / "Sources" / "OtterServer" / "Resources" / "openapi.json"


def cloud_operations(path=OPENAPI):
    """[(METHOD, '/path', handler module)]: the operations of the REST API that
    the cloud stack serves, marked in openapi.json (the one route list) by
    `x-otter-lambda`, the handler module's name."""
    doc = json.loads(Path(path).read_text())
    return [(method.upper(), route, op["x-otter-lambda"])
            for route, ops in doc["paths"].items() for method, op in ops.items()
            if "x-otter-lambda" in op]


HTTP_ROUTES = [(m, tuple(p for p in path.split("/") if p), f"{m} {path}", module)
               for m, path, module in cloud_operations()]


def ws_handlers(path=None):
    """{route key: handler module} of the template's WebSocket API (SignalApi),
    with its $connect authorizer under None (no frame's action): what `otter template`
    wires, read from it rather than copied here."""
    path = Path(path) if path else template_source()[0]
    resources = json.loads(path.read_text())["Resources"]

    def module(uri):  # "...functions/${WsJoinFunction.Arn}/invocations" -> "ws_join"
        function = re.search(r"\$\{(\w+)\.Arn\}", uri["Fn::Sub"]).group(1)
        return resources[function]["Properties"]["Handler"].split(".")[0]

    out = {}
    for r in resources.values():
        p = r["Properties"]
        if p.get("ApiId") != {"Ref": "SignalApi"}:
            continue
        if r["Type"] == "AWS::ApiGatewayV2::Route":
            integration = re.fullmatch(r"integrations/\$\{(\w+)\}", p["Target"]["Fn::Sub"]).group(1)
            out[p["RouteKey"]] = module(resources[integration]["Properties"]["IntegrationUri"])
        elif r["Type"] == "AWS::ApiGatewayV2::Authorizer":
            out[None] = module(p["AuthorizerUri"])
    return out


_ws_handlers = None


def ws_table():
    """ws_handlers() of the template the tests use, read once."""
    global _ws_handlers
    if _ws_handlers is None:
        _ws_handlers = ws_handlers()
    return _ws_handlers


def ws_handler(key):
    """The handler module API Gateway runs for the WebSocket route `key` (None: $connect's authorizer)."""
    return handler_module(ws_table()[key])


class Gateway:
    """Routes like the two API Gateway APIs of the Otter stack and invokes the
    handlers with API Gateway-shaped events. Messages the handlers post with the
    management API land in moto's backend and are read back from there."""

    def __init__(self):
        self.lock = threading.RLock()
        self.sockets = {}  # connectionId -> {"inbox": [], "closed": bool, "offset": int, ...}
        self._closing = []
        session = boto3._get_default_session()
        # Observe (not replace) DeleteConnection: API Gateway closes the socket and then
        # runs $disconnect; moto drops the connection's data, so read it first.
        session.events.register("before-parameter-build.apigatewaymanagementapi.DeleteConnection", self._on_delete)
        otter_store.reset_caches()  # handler clients are created after this hook exists

    # ---------------- HTTP
    def http(self, method, path, headers=None, body=None):
        """-> (status, headers, body bytes) as the client sees them."""
        parts = tuple(p for p in path.split("?")[0].split("/") if p)
        for m, pattern, route_key, module in HTTP_ROUTES:
            if m != method or len(pattern) != len(parts):
                continue
            params = {}
            ok = True
            for p, actual in zip(pattern, parts):
                if p.startswith("{"):
                    params[p[1:-1]] = actual
                elif p != actual:
                    ok = False
                    break
            if ok:
                break
        else:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        event = ev.http_event(method, path, route_key, headers, body, params or None)
        result = handler_module(module).handler(event, None)
        status = result.get("statusCode", 200)
        body_out = result.get("body") or ""
        raw = base64.b64decode(body_out) if result.get("isBase64Encoded") else body_out.encode()
        return status, {k.lower(): v for k, v in (result.get("headers") or {}).items()}, raw

    # ---------------- WebSocket
    def connect(self, token):
        """Runs the $connect authorizer and $connect; -> connectionId or raises Refused."""
        cid = ev.new_connection_id()
        import time as _t
        connected_at = int(_t.time() * 1000)
        try:
            out = ws_handler(None).handler(ev.ws_authorizer_event(cid, token, connected_at), None)
        except Exception as exc:
            if str(exc) == "Unauthorized":
                raise Refused(401) from None
            raise Refused(500) from None
        statements = out["policyDocument"]["Statement"]
        if not any(s["Effect"] == "Allow" for s in statements) or any(s["Effect"] == "Deny" for s in statements):
            raise Refused(403)
        authorizer = {"principalId": out["principalId"], **(out.get("context") or {}), "integrationLatency": 1}
        result = ws_handler("$connect").handler(ev.ws_connect_event(cid, token, authorizer, connected_at), None)
        if not 200 <= int(result.get("statusCode", 200)) < 300:
            raise Refused(int(result["statusCode"]))
        with self.lock:
            self.sockets[cid] = {"inbox": [], "closed": False, "offset": 0,
                                 "connected_at": connected_at, "authorizer": authorizer}
        return cid

    def send(self, cid, text):
        """A client text frame: route selection on $request.body.action, then the handler."""
        sock = self.sockets[cid]
        if sock["closed"]:
            raise RuntimeError("socket is closed")
        route = "$default"
        try:
            frame = json.loads(text)
            action = frame.get("action") if isinstance(frame, dict) else None
            # Route selection on $request.body.action: a custom route key, else $default.
            if isinstance(action, str) and not action.startswith("$") and action in ws_table():
                route = action
        except ValueError:
            pass
        ws_handler(route).handler(
            ev.ws_message_event(cid, route, text, sock["connected_at"], sock["authorizer"]), None)
        self._after()

    def close(self, cid, status=1000):
        """The client closes its socket: API Gateway runs $disconnect."""
        sock = self.sockets[cid]
        if sock["closed"]:
            return
        self._drain(cid)
        sock["closed"] = True
        _mgmt_backend().connections.pop(backend_key(cid), None)
        _mgmt_backend().connections.pop(cid, None)
        ws_handler("$disconnect").handler(
            ev.ws_disconnect_event(cid, sock["connected_at"], sock["authorizer"], status), None)
        self._after()

    def messages(self, cid):
        """New messages for ``cid`` (decoded), oldest first."""
        with self.lock:
            self._drain(cid)
            sock = self.sockets[cid]
            out, sock["inbox"] = sock["inbox"], []
            return out

    def shutdown(self):
        boto3._get_default_session().events.unregister(
            "before-parameter-build.apigatewaymanagementapi.DeleteConnection", self._on_delete)

    def is_closed(self, cid):
        return self.sockets[cid]["closed"]

    # ---------------- internals
    def _drain(self, cid):
        sock = self.sockets.get(cid)
        if sock is None:
            return
        conns = _mgmt_backend().connections
        conn = conns.get(backend_key(cid)) or conns.get(cid)  # in-process mock / moto server
        if conn is None:
            return
        new = conn.data[sock["offset"]:]
        sock["offset"] = len(conn.data)
        if new:
            sock["inbox"].extend(decode_stream(new))

    def _on_delete(self, params, **kwargs):
        cid = params.get("ConnectionId")
        with self.lock:
            if cid in self.sockets and not self.sockets[cid]["closed"]:
                self._drain(cid)
                self.sockets[cid]["closed"] = True
                self._closing.append(cid)

    def _after(self):
        """Server-side closes (DeleteConnection) are followed by $disconnect, as on AWS."""
        while True:
            with self.lock:
                if not self._closing:
                    return
                cid = self._closing.pop(0)
                sock = self.sockets[cid]
            ws_handler("$disconnect").handler(
                ev.ws_disconnect_event(cid, sock["connected_at"], sock["authorizer"], 1005, "Server closed"), None)
