"""$connect: records connection -> room (after the authorizer allowed it).

The record's ``expiresAt`` (the connections table's TTL attribute) is the room
token's expiry: ``$disconnect`` is best effort on AWS, and a record it never
removed is deleted by TTL once the token that opened the socket is no longer
valid anyway."""

import otter_common as c
import otter_store
import otter_tokens
import otter_ws


def _authorized(event):
    """(roomId, maxPeers, tokenExp) from the authorizer's context; if the route
    has no authorizer (misconfiguration) the token is verified here instead."""
    auth = (event.get("requestContext") or {}).get("authorizer") or {}
    if auth.get("roomId"):
        return str(auth["roomId"]), int(auth["maxPeers"]), int(auth["tokenExp"])
    token = (event.get("queryStringParameters") or {}).get("token")
    claims = otter_tokens.verify_token(token, otter_store.secret("SIGNING_SECRET_ARN"))
    if otter_store.get_room(claims["sub"]) is None:
        raise c.OtterError("not-found", c.message("room-not-found"), 401)
    return claims["sub"], int(claims["maxPeers"]), int(claims["exp"])


@c.logged("ws_connect")
def handler(event, context, record):
    connection_id = event["requestContext"]["connectionId"]
    try:
        room_id, max_peers, token_exp = _authorized(event)
    except (c.OtterError, KeyError, ValueError, TypeError) as err:
        record["code"] = getattr(err, "code", "unauthorized")
        return {"statusCode": 401}
    otter_store.table("CONNECTIONS_TABLE").put_item(Item={
        "connectionId": connection_id,
        "roomId": room_id,
        "maxPeers": max_peers,
        "tokenExp": token_exp,
        "expiresAt": token_exp,
        "connectedAt": int(c.now()),
    })
    record["roomId"] = room_id
    return otter_ws.ws_ok()
