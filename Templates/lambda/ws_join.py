"""join: takes a seat in the room with one conditional write, so concurrent
joins can never exceed maxPeers; ``welcome`` to the joiner, ``peer-joined`` to
the others. A full room answers ``room-full`` and closes the socket.

A join with ``resume: {peerId, key}`` whose key matches that seat of this room
first frees it (``peer-left`` to the others, its socket closed): a browser whose
old socket died silently gets its seat back at once (DESIGN.md "Seat takeover").
"""

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


def _resume_claim(frame):
    """(peerId, key) from the join's ``resume``, or None. A claim that cannot
    match (malformed, too long) makes a plain join, like a wrong key: a rejoin
    is never refused for its optional hint."""
    claim = frame.get("resume")
    if not isinstance(claim, dict):
        return None
    peer_id, key = claim.get("peerId"), claim.get("key")
    for value in (peer_id, key):
        if not isinstance(value, str):
            return None
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") is no id or key Otter issued
            return None
        if not 0 < size <= otter_tokens.RESUME_CLAIM_MAX:
            return None
    return peer_id, key


def _take_over(event, room_id, me, claim, t, record):
    """Frees the claimed seat if the claim's key is that seat's, in this room.

    Anything else (unknown id, a seat of another room, a wrong key) does
    nothing, so the join goes on as a plain one and the answer never tells a
    miss from a guess. The old connection record is deleted on the condition
    that it still holds that hash, so of two joins with one key only one frees
    the seat; then the seat goes as on a leave (peer-left to the others) and
    the old socket is closed (its $disconnect finds no record: nothing more)."""
    old_peer, key = claim
    room = otter_store.get_room(room_id, at=t)
    if room is None:
        return
    members = dict(room.get("members") or {})
    old_conn = members.get(old_peer)
    if not isinstance(old_conn, str) or old_conn == me:
        return
    old = otter_ws.get_connection(old_conn)
    if old is None or old.get("roomId") != room_id or old.get("peerId") != old_peer:
        return
    stored = old.get("resumeHash")
    if not otter_tokens.resume_key_matches(key, stored):
        return
    try:
        otter_store.table("CONNECTIONS_TABLE").delete_item(
            Key={"connectionId": old_conn},
            ConditionExpression="resumeHash = :h AND peerId = :p AND roomId = :r",
            ExpressionAttributeValues={":h": stored, ":p": old_peer, ":r": room_id},
        )
    except ClientError as exc:
        if otter_store.is_conditional_failure(exc):
            return
        raise
    record["tookOver"] = old_peer
    otter_ws.depart(event, room_id, [(old_peer, old_conn)], members, record)
    otter_ws.close_connection(event, old_conn)


@c.logged("ws_join")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        frame = otter_ws.parse_frame(event)
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

    claim = _resume_claim(frame)
    if claim is not None:
        _take_over(event, room_id, me, claim, t, record)

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
    # Only the key's hash is stored: the table (and its point-in-time backups)
    # is read by several handlers, and what it holds must not take a seat.
    resume_key = otter_tokens.new_resume_key()
    try:
        otter_store.table("CONNECTIONS_TABLE").update_item(
            Key={"connectionId": me},
            UpdateExpression="SET peerId = :p, resumeHash = :h",
            ConditionExpression="attribute_exists(connectionId)",
            ExpressionAttributeValues={":p": peer_id, ":h": otter_tokens.hash_resume_key(resume_key)},
        )
    except ClientError as exc:
        if not otter_store.is_conditional_failure(exc):
            raise
        # The socket closed while joining: give the seat back.
        otter_ws.remove_member(room_id, peer_id, me)
        return otter_ws.ws_ok()

    record["peerId"] = peer_id
    others = sorted(p for p in members if p != peer_id)
    welcome = {"type": "welcome", "peerId": peer_id, "peers": others, "resume": resume_key}
    if not otter_ws.post(event, me, welcome):
        otter_ws.depart(event, room_id, [(peer_id, me)], members, record)
        return otter_ws.ws_ok()
    gone = [(p, members[p]) for p in others
            if not otter_ws.post(event, members[p], {"type": "peer-joined", "peerId": peer_id})]
    if gone:
        otter_ws.depart(event, room_id, gone, members, record)
    return otter_ws.ws_ok()
