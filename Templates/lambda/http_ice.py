"""HTTP API: GET /rooms/{roomId}/ice-servers (Bearer room token).

TURN REST API credentials (coturn's use-auth-secret): username
"<expiry>:<roomId>", credential base64(HMAC-SHA1(turnSecret, username)), 1 h.
"""

import otter_common as c


def _urls():
    return [u.strip() for u in (c.env("TURN_URLS") or "").split(",") if u.strip()]


@c.logged("http_ice")
def handler(event, context, record):
    room_id = (event.get("pathParameters") or {}).get("roomId") or ""
    try:
        c.require_room_token(event, room_id)
        record["roomId"] = room_id
        if c.get_room(room_id) is None:
            raise c.OtterError("not-found", "no such room", 404)
        urls = _urls()
        if not urls:
            raise c.OtterError("internal", "no TURN/STUN URLs are configured", 500)
        username, credential = c.turn_credentials(c.secret("TURN_SECRET_ARN"), room_id, c.ICE_TTL)
    except c.OtterError as err:
        record["code"] = err.code
        return c.error_response(err)
    return c.http_response(200, {"iceServers": [{"urls": urls, "username": username, "credential": credential}],
                                 "ttlSeconds": c.ICE_TTL})
