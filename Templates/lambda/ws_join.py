"""join: takes a seat in the room with one conditional write, so concurrent
joins can never exceed maxPeers; ``welcome`` to the joiner, ``peer-joined`` to
the others. A full room answers ``room-full`` and closes the socket."""

from botocore.exceptions import BotoCoreError, ClientError

import otter_common as c
import otter_store
import otter_tokens
import otter_ws


def _take_seat(room_id, peer_id, connection_id, t):
    """The one conditional write: the updated room, or None if full/expired/gone.
    The cap is the stored room's maxPeers, never the token's: a token signed
    with a leaked secret cannot raise it."""
    try:
        return otter_store.table("ROOMS_TABLE").update_item(
            Key={"roomId": room_id},
            UpdateExpression="SET members.#p = :c",
            ConditionExpression="attribute_exists(roomId) AND expiresAt > :now AND size(members) < maxPeers",
            ExpressionAttributeNames={"#p": peer_id},
            ExpressionAttributeValues={":c": connection_id, ":now": int(t)},
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if otter_store.is_conditional_failure(exc):
            return None
        raise


def _stale_seats(event, members, record):
    """The seats whose connection API Gateway no longer knows (GoneException).

    Best effort: if GetConnection fails any other way (AccessDeniedException
    from a role without the GET grant, throttling, a network error), the
    remaining seats are taken as live and the check stops, so the joiner still
    gets ``room-full`` and a closed socket instead of the handler raising
    (API Gateway's "Internal server error" with the socket left open)."""
    stale = []
    for peer_id, connection_id in sorted(members.items()):
        try:
            alive = otter_ws.connection_alive(event, connection_id)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
            record["staleCheckFailed"] = code
            break
        if not alive:
            stale.append((peer_id, connection_id))
    return stale


@c.logged("ws_join")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        otter_ws.parse_frame(event)
    except c.OtterError as err:
        record["code"] = err.code
        otter_ws.post(event, me, otter_ws.ws_error(err.code, err.message))
        return otter_ws.ws_ok()

    conn = otter_ws.get_connection(me)
    if conn is None:
        record["code"] = "bad-message"
        otter_ws.post(event, me, otter_ws.ws_error("bad-message", "this connection is not registered; reconnect"))
        return otter_ws.ws_ok()
    room_id = conn["roomId"]
    record["roomId"] = room_id
    if conn.get("peerId"):
        record["code"] = "bad-message"
        otter_ws.post(event, me, otter_ws.ws_error("bad-message", c.message("already-joined")))
        return otter_ws.ws_ok()
    t = c.now()
    if t >= int(conn.get("tokenExp", 0)):
        record["code"] = "token-expired"
        otter_ws.post(event, me, otter_ws.ws_error("token-expired", c.message("token-expired")))
        otter_ws.close_connection(event, me)
        return otter_ws.ws_ok()

    peer_id = otter_tokens.new_peer_id()
    result = _take_seat(room_id, peer_id, me, t)
    if result is None:
        # Full (or gone). $disconnect is best effort on AWS: a seat may belong to a
        # connection that no longer exists. Check the seated connections once,
        # free the stale ones (peer-left to the rest), and try once more.
        room = otter_store.get_room(room_id, at=t)
        if room is not None:
            members = dict(room.get("members") or {})
            stale = _stale_seats(event, members, record)
            if stale:
                otter_ws.depart(event, room_id, stale, members, record)
                result = _take_seat(room_id, peer_id, me, t)
    if result is None:
        room = otter_store.get_room(room_id, at=t)
        if room is None:
            code, message = "token-expired", c.message("token-expired")
        else:
            code, message = "room-full", c.message("room-full", maxPeers=int(room["maxPeers"]))
        record["code"] = code
        otter_ws.post(event, me, otter_ws.ws_error(code, message))
        otter_ws.close_connection(event, me)
        return otter_ws.ws_ok()

    members = dict(result["Attributes"].get("members") or {})
    try:
        otter_store.table("CONNECTIONS_TABLE").update_item(
            Key={"connectionId": me},
            UpdateExpression="SET peerId = :p",
            ConditionExpression="attribute_exists(connectionId)",
            ExpressionAttributeValues={":p": peer_id},
        )
    except ClientError as exc:
        if not otter_store.is_conditional_failure(exc):
            raise
        # The socket closed while joining: give the seat back.
        otter_ws.remove_member(room_id, peer_id, me)
        return otter_ws.ws_ok()

    record["peerId"] = peer_id
    others = sorted(p for p in members if p != peer_id)
    if not otter_ws.post(event, me, {"type": "welcome", "peerId": peer_id, "peers": others}):
        otter_ws.depart(event, room_id, [(peer_id, me)], members, record)
        return otter_ws.ws_ok()
    gone = [(p, members[p]) for p in others
            if not otter_ws.post(event, members[p], {"type": "peer-joined", "peerId": peer_id})]
    if gone:
        otter_ws.depart(event, room_id, gone, members, record)
    return otter_ws.ws_ok()
