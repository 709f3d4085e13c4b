"""signal: relays ``data`` to the named peer, only within the sender's room."""

import otter_common as c
import otter_store
import otter_ws


@c.logged("ws_signal")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    try:
        frame = otter_ws.parse_frame(event)
        to, data = frame.get("to"), frame.get("data")
        if not isinstance(to, str) or not to:
            raise c.OtterError("bad-message", c.message("signal-without-to"))
        if not isinstance(data, dict):
            raise c.OtterError("bad-message", c.message("signal-without-data"))
        conn = otter_ws.get_connection(me)
        if conn is None or not conn.get("peerId"):
            raise c.OtterError("bad-message", c.message("signal-before-join"))
        record["roomId"] = room_id = conn["roomId"]
        record["peerId"] = peer_id = conn["peerId"]
        room = otter_store.get_room(room_id)
        members = dict((room or {}).get("members") or {})
        target = members.get(to) if to != peer_id else None
        if target is None:
            raise c.OtterError("unknown-peer", c.message("unknown-peer", peerId=to[:40]))
    except c.OtterError as err:
        record["code"] = err.code
        otter_ws.post(event, me, otter_ws.ws_error(err.code, err.message))
        return otter_ws.ws_ok()
    if not otter_ws.post(event, target, {"type": "signal", "from": peer_id, "data": data}):
        otter_ws.depart(event, room_id, [(to, target)], members, record)
    return otter_ws.ws_ok()
