"""HTTP API (payload format 2.0): responses, request bodies and credentials."""

import base64
import binascii
import hmac
import json

import otter_common as common
import otter_store
import otter_tokens

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
            raise common.OtterError("bad-request", "the body is not valid base64", 400) from None
    return body.encode("utf-8")


def bearer_token(event):
    value = header(event, "authorization")
    if not value:
        raise common.OtterError("unauthorized", common.message("bearer-missing"), 401)
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise common.OtterError("unauthorized", common.message("bearer-missing"), 401)
    return token.strip()


def require_api_key(event):
    presented = header(event, "x-api-key")
    if not presented:
        raise common.OtterError("unauthorized", common.message("api-key-missing"), 401)
    stored = otter_store.stored_api_key_hash()
    if not stored or not otter_tokens.api_key_matches(presented, stored):
        raise common.OtterError("unauthorized", common.message("api-key-invalid"), 401)
    return presented


def require_room_token(event, room_id):
    """Verifies the Bearer room token and that it names ``room_id``; returns claims."""
    claims = otter_tokens.verify_token(bearer_token(event), otter_store.secret("SIGNING_SECRET_ARN"))
    if not hmac.compare_digest(claims["sub"].encode(), room_id.encode()):
        raise common.OtterError("forbidden", common.message("token-other-room"), 403)
    return claims

