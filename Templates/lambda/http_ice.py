"""HTTP API: GET /rooms/{roomId}/ice-servers (Bearer room token).

TURN REST API credentials (coturn's use-auth-secret): username
"<expiry>:<roomId>", credential base64(HMAC-SHA1(turnSecret, username)), 1 h.
"""

import otter_common as c
import otter_http
import otter_store
import otter_tokens


def _urls():
    return [u.strip() for u in (c.env("TURN_URLS") or "").split(",") if u.strip()]


@c.logged("http_ice")
def handler(event, context, record):
    room_id = (event.get("pathParameters") or {}).get("roomId") or ""
    try:
        otter_http.require_room_token(event, room_id)
        record["roomId"] = room_id
        if otter_store.get_room(room_id) is None:
            raise c.OtterError("not-found", c.message("room-not-found"), 404)
        urls = _urls()
        if not urls:
            raise c.OtterError("internal", "no TURN/STUN URLs are configured", 500)
        username, credential = otter_tokens.turn_credentials(otter_store.secret("TURN_SECRET_ARN"), room_id, c.ICE_TTL)
    except c.OtterError as err:
        record["code"] = err.code
        return otter_http.error_response(err)
    servers = [{"urls": urls, "username": username, "credential": credential}]
    return otter_http.http_response(200, {"iceServers": servers, "ttlSeconds": c.ICE_TTL})
