"""HTTP API: POST /rooms (x-api-key) and GET /rooms/{roomId} (Bearer room token)."""

import json
import urllib.parse

import otter_common as c
import otter_http
import otter_store
import otter_tokens


def _unique_keys(pairs):
    """json.loads would keep the last of duplicate keys and otter up the first:
    both refuse them instead, so a body means one thing everywhere."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in a JSON object")
    return dict(pairs)


def _create(event, record):
    otter_http.require_api_key(event)
    raw = otter_http.http_body(event)
    if len(raw) > c.MAX_HTTP_BODY_BYTES:
        raise c.OtterError("too-large", c.message("body-too-large", maxBodyBytes=c.MAX_HTTP_BODY_BYTES), 413)
    body = {}
    if raw.strip():
        media = (otter_http.header(event, "content-type") or "application/json").split(";")[0].strip().lower()
        if media != "application/json":
            raise c.OtterError("unsupported-media-type", c.message("body-not-json"), 415)
        try:
            # A UTF-8 BOM stays in the text and json.loads refuses it (400), as otter up does.
            body = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
        except (ValueError, UnicodeDecodeError):
            raise c.OtterError("bad-request", c.message("body-not-object"), 400) from None
        if not isinstance(body, dict):
            raise c.OtterError("bad-request", c.message("body-not-object"), 400)
    if "maxPeers" in body:
        max_peers = body["maxPeers"]
    else:
        default = c.env("MAX_PEERS_DEFAULT", "")
        max_peers = int(default) if default.isdigit() else c.DEFAULT_MAX_PEERS
    if not otter_tokens.is_int(max_peers) or not c.MIN_PEERS <= max_peers <= c.MAX_PEERS:
        raise c.OtterError("bad-request", c.message("bad-max-peers", minPeers=c.MIN_PEERS, maxPeers=c.MAX_PEERS), 400)
    ttl = body.get("ttlSeconds", c.DEFAULT_TTL)
    if not otter_tokens.is_int(ttl) or not c.MIN_TTL <= ttl <= c.MAX_TTL:
        raise c.OtterError("bad-request", c.message("bad-ttl", minTTLSeconds=c.MIN_TTL, maxTTLSeconds=c.MAX_TTL), 400)

    issued = int(c.now())
    expires = issued + ttl
    room_id = otter_tokens.new_room_id()
    otter_store.table("ROOMS_TABLE").put_item(
        Item={"roomId": room_id, "maxPeers": max_peers, "createdAt": issued, "expiresAt": expires, "members": {}},
        ConditionExpression="attribute_not_exists(roomId)",
    )
    token = otter_tokens.make_room_token(room_id, max_peers, issued, expires, otter_store.secret("SIGNING_SECRET_ARN"))
    web = (c.env("WEB_APP_URL") or "").rstrip("/")
    url = f"{web}/?room={urllib.parse.quote(room_id, safe='')}#token={token}"
    record.update(roomId=room_id, maxPeers=max_peers)
    return otter_http.http_response(201, {"roomId": room_id, "url": url, "token": token,
                                          "expiresAt": expires, "maxPeers": max_peers})


def _get(event, record):
    room_id = (event.get("pathParameters") or {}).get("roomId") or ""
    otter_http.require_room_token(event, room_id)
    record["roomId"] = room_id
    room = otter_store.get_room(room_id)
    if room is None:
        raise c.OtterError("not-found", c.message("room-not-found"), 404)
    return otter_http.http_response(200, {"roomId": room_id, "expiresAt": int(room["expiresAt"]),
                                          "maxPeers": int(room["maxPeers"])})


@c.logged("http_rooms")
def handler(event, context, record):
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
    try:
        if method == "POST":
            return _create(event, record)
        if method == "GET":
            return _get(event, record)
        raise c.OtterError("not-found", "no such route", 404)
    except c.OtterError as err:
        record["code"] = err.code
        return otter_http.error_response(err)
