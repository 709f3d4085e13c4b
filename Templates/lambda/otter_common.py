"""What every Otter cloud handler shares: the rules and error sentences
(Templates/limits.json), OtterError, the environment, the clock and the one
JSON log line per request.

The handlers' other helpers are split by concern: otter_tokens (room tokens,
API keys, TURN credentials, ids), otter_store (AWS clients, DynamoDB tables,
secrets), otter_http (HTTP API responses and credentials), otter_ws (WebSocket
frames, connections and the management API). Every handler zip contains all of
them, and limits.json (``otter deploy`` zips the folder as is, plus that file).
Nothing here logs a token, an API key, a secret or SDP.
"""

import functools
import json
import os
import re
import time

# ---------------------------------------------------------------- rules (Templates/limits.json, DESIGN.md)


def _read_limits():
    """Templates/limits.json, the one copy of the limits and error wordings
    that OtterCore is tested against. ``otter deploy`` packs it beside this
    module (read through the loader, so importing from the zip works too); in
    the source tree it is one folder up."""
    here = os.path.dirname(__file__)
    try:
        raw = __loader__.get_data(os.path.join(here, "limits.json"))
    except OSError:
        with open(os.path.join(here, os.pardir, "limits.json"), "rb") as f:
            raw = f.read()
    return json.loads(raw)


LIMITS = _read_limits()
ISSUER = LIMITS["token"]["issuer"]
AUDIENCE = LIMITS["token"]["audience"]
MIN_PEERS, MAX_PEERS = LIMITS["room"]["minPeers"], LIMITS["room"]["maxPeers"]
DEFAULT_MAX_PEERS = LIMITS["room"]["defaultMaxPeers"]
DEFAULT_TTL = LIMITS["room"]["defaultTTLSeconds"]
MIN_TTL = LIMITS["room"]["minTTLSeconds"]
MAX_TTL = LIMITS["room"]["maxTTLSeconds"]
ICE_TTL = LIMITS["iceTTLSeconds"]
# API Gateway WebSocket frames are capped at "32 KB" and a larger frame closes
# the socket with 1009 before any handler runs
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
# 32,000 bytes is the stricter reading of "32 KB" (not 32,768), so a frame the
# handlers accept is one API Gateway accepts too.
MAX_FRAME_BYTES = LIMITS["maxFrameBytes"]
MAX_HTTP_BODY_BYTES = LIMITS["maxBodyBytes"]
MAX_TOKEN_CHARS = LIMITS["token"]["maxChars"]
ROOM_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def message(key, **values):
    """The sentence limits.json words the error ``key`` with (the same words
    ``otter up`` sends); ``values`` fill its {name}s."""
    return LIMITS["messages"][key].format(**values)


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
    """The clock every module reads (as ``otter_common.now()``, so tests can move it)."""
    return time.time()


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

