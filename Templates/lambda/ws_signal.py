"""signal: relays ``data`` to the named peer, only within the sender's room."""

import otter_common as c


@c.logged("ws_signal")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        frame = c.parse_frame(event)
        to, data = frame.get("to"), frame.get("data")
        if not isinstance(to, str) or not to:
            raise c.OtterError("bad-message", 'signal needs a string "to"')
        if not isinstance(data, dict):
            raise c.OtterError("bad-message", 'signal needs an object "data"')
        conn = c.get_connection(me)
        if conn is None or not conn.get("peerId"):
            raise c.OtterError("bad-message", "join the room before signaling")
        record["roomId"] = room_id = conn["roomId"]
        record["peerId"] = peer_id = conn["peerId"]
        room = c.get_room(room_id)
        members = dict((room or {}).get("members") or {})
        target = members.get(to) if to != peer_id else None
        if target is None:
            raise c.OtterError("unknown-peer", "no such peer in this room")
    except c.OtterError as err:
        record["code"] = err.code
        c.post(event, me, c.ws_error(err.code, err.message))
        return c.ws_ok()
    if not c.post(event, target, {"type": "signal", "from": peer_id, "data": data}):
        c.depart(event, room_id, [(to, target)], members, record)
    return c.ws_ok()
