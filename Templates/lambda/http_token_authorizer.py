"""HTTP API Lambda authorizer (payload 2.0, simple response) for
``Authorization: Bearer <room token>`` on /rooms/{roomId}[/ice-servers].
Context on success: {roomId, maxPeers}."""

import otter_common as c


@c.logged("http_token_authorizer")
def handler(event, context, record):
    room_id = (event.get("pathParameters") or {}).get("roomId") or ""
    try:
        claims = c.require_room_token(event, room_id)
    except c.OtterError as err:
        record.update(status=403, code=err.code)
        return {"isAuthorized": False}
    record.update(status=200, roomId=room_id)
    return {"isAuthorized": True, "context": {"roomId": claims["sub"], "maxPeers": int(claims["maxPeers"])}}
