"""Shared code of Otter's cloud handlers (Python 3.12, stdlib + the runtime's boto3).

Every handler zip contains this module (``otter deploy`` zips the folder as is).
Nothing here logs a token, an API key, a secret or SDP.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# ---------------------------------------------------------------- rules (DESIGN.md, OtterCore.RoomRules)

ISSUER = "otter"
AUDIENCE = "otter-room"
MIN_PEERS, MAX_PEERS = 2, 4
DEFAULT_TTL = 48 * 3600
MIN_TTL = 60
MAX_TTL = 30 * 24 * 3600
ICE_TTL = 3600
# API Gateway WebSocket frames are capped at "32 KB" and a larger frame closes
# the socket with 1009 before any handler runs
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
# 32,000 bytes is the stricter reading of "32 KB" (not 32,768), so a frame the
# handlers accept is one API Gateway accepts too; OtterCore's maxFrameBytes and
# the web SDK use the same number.
MAX_FRAME_BYTES = 32_000
MAX_HTTP_BODY_BYTES = 64 * 1024
MAX_TOKEN_CHARS = 4096
ROOM_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class OtterError(Exception):
    """An error with a DESIGN.md code and a message a person can act on."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def now():
    return time.time()


# ---------------------------------------------------------------- base64url, JWT (HS256 pinned)

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if not isinstance(text, str) or not _B64URL_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret_bytes(secret):
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def sign_token(claims, secret):
    header = b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = hmac.new(_secret_bytes(secret), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url_encode(sig)}"


def make_room_token(room_id, max_peers, issued_at, expires_at, secret):
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": room_id, "iat": int(issued_at),
              "exp": int(expires_at), "maxPeers": int(max_peers)}
    return sign_token(claims, secret)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def verify_token(token, secret, at=None):
    """Returns the claims of a valid room token or raises OtterError(401).

    Order: shape, header ``alg`` == HS256 exactly, signature (constant time),
    and only then the claims are decoded: iss, aud, sub, exp (required), maxPeers.
    """
    bad = OtterError("bad-token", "the room token is invalid", 401)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise bad
    parts = token.split(".")
    if len(parts) != 3:
        raise bad
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or "crit" in header:
        raise OtterError("bad-token", "the room token must be signed with HS256", 401)
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise bad from None
    expected = hmac.new(_secret_bytes(secret), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise bad
    # The signature holds: only now are the claims read.
    try:
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(claims, dict):
        raise bad
    aud = claims.get("aud")
    aud_ok = aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud)
    sub = claims.get("sub")
    exp = claims.get("exp")
    max_peers = claims.get("maxPeers")
    if (claims.get("iss") != ISSUER or not aud_ok or not isinstance(sub, str) or not ROOM_ID_RE.match(sub)
            or not isinstance(exp, (int, float)) or isinstance(exp, bool)
            or not _is_int(max_peers) or not MIN_PEERS <= max_peers <= MAX_PEERS):
        raise bad
    t = now() if at is None else at
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > t):
        raise bad
    if t >= exp:
        raise OtterError("token-expired", "the room link has expired; ask for a new one", 401)
    return claims


# ---------------------------------------------------------------- API keys, TURN REST credentials

def new_api_key():
    """32 random bytes, base64url, prefixed like OtterCore's keys."""
    return "otk_" + b64url_encode(secrets.token_bytes(32))


def hash_api_key(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_matches(presented, stored_hash):
    if not isinstance(presented, str) or not presented or not isinstance(stored_hash, str):
        return False
    return hmac.compare_digest(hash_api_key(presented).encode("ascii"), stored_hash.encode("ascii", "replace"))


def turn_credentials(turn_secret, room_id, ttl=ICE_TTL, at=None):
    expiry = int(now() if at is None else at) + ttl
    username = f"{expiry}:{room_id}"
    mac = hmac.new(_secret_bytes(turn_secret), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


def new_room_id():
    return b64url_encode(secrets.token_bytes(16))


def new_peer_id():
    return b64url_encode(secrets.token_bytes(9))


# ---------------------------------------------------------------- AWS clients and secrets (cached per container)

_lock = threading.Lock()
_local = threading.local()
_generation = [0]


def _cache(name):
    """Per-container caches. A Lambda container runs one request at a time on
    one thread, so thread-local caches are per-container caches; tests that run
    several "containers" as threads get one each."""
    if getattr(_local, "generation", None) != _generation[0]:
        _local.generation = _generation[0]
        _local.clients = {}
        _local.secrets = {}
    return getattr(_local, name)


def reset_caches():
    """For tests: forget clients and secrets (a new container)."""
    with _lock:
        _generation[0] += 1


def client(service, endpoint_url=None):
    key = (service, endpoint_url)
    clients = _cache("clients")
    c = clients.get(key)
    if c is None:
        with _lock:  # client creation from the shared default session is not thread-safe
            cfg = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=5)
            kwargs = {"config": cfg}
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
            c = boto3.client(service, **kwargs)
        clients[key] = c
    return c


def table(env_name):
    name = env(env_name)
    if not name:
        raise RuntimeError(f"{env_name} is not set")
    clients = _cache("clients")
    key = ("table", name)
    t = clients.get(key)
    if t is None:
        with _lock:
            t = boto3.resource("dynamodb", config=Config(retries={"max_attempts": 3, "mode": "standard"})).Table(name)
        clients[key] = t
    return t


def secret(env_name):
    """The secret named by ``env_name`` (an ARN), read from Secrets Manager once per container.

    A plain SecretString is the secret; a JSON object string is accepted too
    (its ``secret`` key, or its only value).
    """
    arn = env(env_name)
    if not arn:
        raise RuntimeError(f"{env_name} is not set")
    cache = _cache("secrets")
    if arn in cache:
        return cache[arn]
    value = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    try:
        obj = json.loads(value)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        if isinstance(obj.get("secret"), str):
            value = obj["secret"]
        elif len(obj) == 1 and isinstance(next(iter(obj.values())), str):
            value = next(iter(obj.values()))
    cache[arn] = value
    return value


def stored_api_key_hash():
    item = table("CONFIG_TABLE").get_item(Key={"id": "apiKey"}, ConsistentRead=True).get("Item")
    return item.get("hash") if item else None


def is_conditional_failure(error):
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# ---------------------------------------------------------------- logging: one JSON line per request

def log_line(record):
    print(json.dumps(record, separators=(",", ":"), default=str), flush=True)


def logged(function_name):
    """Wraps a handler: one structured JSON line per request, with fields the
    handler adds to ``ctx`` (never tokens, keys or SDP)."""

    def wrap(fn):
        @functools.wraps(fn)
        def handler(event, context):
            started = time.perf_counter()
            rc = (event or {}).get("requestContext") or {}
            record = {"fn": function_name, "requestId": rc.get("requestId") or getattr(context, "aws_request_id", None),
                      "route": rc.get("routeKey") or (event or {}).get("routeKey")}
            if rc.get("connectionId"):
                record["connectionId"] = rc["connectionId"]
            try:
                result = fn(event, context, record)
                if isinstance(result, dict) and "statusCode" in result:
                    record.setdefault("status", result["statusCode"])
                return result
            except Exception as exc:  # logged, then re-raised for the platform
                record.setdefault("status", "exception")
                record["exception"] = type(exc).__name__
                raise
            finally:
                record["ms"] = round((time.perf_counter() - started) * 1000, 1)
                log_line(record)

        return handler

    return wrap


# ---------------------------------------------------------------- HTTP API (payload format 2.0)

def http_response(status, body=None, headers=None):
    h = {"content-type": "application/json", "cache-control": "no-store"}
    if headers:
        h.update(headers)
    resp = {"statusCode": status, "headers": h}
    resp["body"] = json.dumps(body if body is not None else {}, separators=(",", ":"))
    return resp


def http_error(status, code, message):
    return http_response(status, {"error": {"code": code, "message": message}})


def error_response(err):
    return http_error(err.status, err.code, err.message)


def header(event, name):
    headers = event.get("headers") or {}
    name = name.lower()
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def http_body(event):
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise OtterError("bad-request", "the body is not valid base64", 400) from None
    return body.encode("utf-8")


def bearer_token(event):
    value = header(event, "authorization")
    if not value:
        raise OtterError("unauthorized", "an Authorization: Bearer <room token> header is required", 401)
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OtterError("unauthorized", "an Authorization: Bearer <room token> header is required", 401)
    return token.strip()


def require_api_key(event):
    presented = header(event, "x-api-key")
    if not presented:
        raise OtterError("unauthorized", "an x-api-key header is required", 401)
    stored = stored_api_key_hash()
    if not stored or not api_key_matches(presented, stored):
        raise OtterError("unauthorized", "the API key is not valid", 401)
    return presented


def require_room_token(event, room_id):
    """Verifies the Bearer room token and that it names ``room_id``; returns claims."""
    claims = verify_token(bearer_token(event), secret("SIGNING_SECRET_ARN"))
    if not hmac.compare_digest(claims["sub"].encode(), room_id.encode()):
        raise OtterError("forbidden", "the room token is for another room", 403)
    return claims


def get_room(room_id, at=None):
    """The room item if it exists and has not expired (DynamoDB's TTL deletes late)."""
    if not ROOM_ID_RE.match(room_id or ""):
        return None
    item = table("ROOMS_TABLE").get_item(Key={"roomId": room_id}, ConsistentRead=True).get("Item")
    if not item:
        return None
    if int(item.get("expiresAt", 0)) <= (now() if at is None else at):
        return None
    return item


# ---------------------------------------------------------------- WebSocket API

def ws_endpoint(event):
    configured = env("WS_ENDPOINT")
    if configured:
        return configured.rstrip("/")
    rc = event["requestContext"]
    return f"https://{rc['domainName']}/{rc['stage']}"


def _mgmt(event):
    return client("apigatewaymanagementapi", endpoint_url=ws_endpoint(event))


def is_gone(error):
    if not isinstance(error, ClientError):
        return False
    code = error.response.get("Error", {}).get("Code")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "GoneException" or status == 410


def post(event, connection_id, message):
    """Posts one JSON message; False when the connection is gone (GoneException)."""
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    try:
        _mgmt(event).post_to_connection(ConnectionId=connection_id, Data=data)
        return True
    except ClientError as exc:
        if is_gone(exc):
            return False
        raise


def connection_alive(event, connection_id):
    """False when API Gateway no longer knows the connection (GoneException)."""
    try:
        _mgmt(event).get_connection(ConnectionId=connection_id)
        return True
    except ClientError as exc:
        if is_gone(exc):
            return False
        raise


def close_connection(event, connection_id):
    try:
        _mgmt(event).delete_connection(ConnectionId=connection_id)
    except ClientError as exc:
        if not is_gone(exc):
            raise


def ws_error(code, message):
    return {"type": "error", "code": code, "message": message}


def frame_bytes(event):
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError):
            return b"\x00"  # not JSON: answered as bad-message
    return body.encode("utf-8")


def parse_frame(event):
    """The client frame as a dict, or OtterError(too-large / bad-message)."""
    raw = frame_bytes(event)
    if len(raw) > MAX_FRAME_BYTES:
        raise OtterError("too-large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        frame = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise OtterError("bad-message", "a frame must be a JSON object") from None
    if not isinstance(frame, dict):
        raise OtterError("bad-message", "a frame must be a JSON object")
    if not isinstance(frame.get("action"), str):
        raise OtterError("bad-message", 'a frame needs a string "action"')
    return frame


def get_connection(connection_id):
    return table("CONNECTIONS_TABLE").get_item(Key={"connectionId": connection_id}, ConsistentRead=True).get("Item")


def remove_member(room_id, peer_id, connection_id):
    """Takes ``peer_id`` out of the room (only if it still maps to this connection)
    and deletes the connection record. Idempotent."""
    try:
        table("ROOMS_TABLE").update_item(
            Key={"roomId": room_id},
            UpdateExpression="REMOVE members.#p",
            ConditionExpression="members.#p = :c",
            ExpressionAttributeNames={"#p": peer_id},
            ExpressionAttributeValues={":c": connection_id},
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):
            raise
    table("CONNECTIONS_TABLE").delete_item(Key={"connectionId": connection_id})


def depart(event, room_id, departed, members, record=None):
    """Removes departed peers ``[(peerId, connectionId)]`` and tells the others
    ``peer-left``. A peer found gone (GoneException) while being told is removed
    the same way, once: every connection is processed at most once, so this
    always ends."""
    alive = dict(members)
    pending = list(departed)
    done = set()
    stale = 0
    while pending:
        peer_id, connection_id = pending.pop(0)
        if peer_id in done:
            continue
        done.add(peer_id)
        alive.pop(peer_id, None)
        remove_member(room_id, peer_id, connection_id)
        for other_id, other_conn in sorted(alive.items()):
            if other_id in done:
                continue
            if not post(event, other_conn, {"type": "peer-left", "peerId": peer_id}):
                stale += 1
                pending.append((other_id, other_conn))
    if record is not None and stale:
        record["staleRemoved"] = record.get("staleRemoved", 0) + stale
    return done


def ws_ok():
    return {"statusCode": 200}
