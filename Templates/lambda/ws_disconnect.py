"""$disconnect: frees the seat and tells the others ``peer-left``."""

import otter_common as c


@c.logged("ws_disconnect")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    conn = c.get_connection(me)
    if conn is None:
        return c.ws_ok()
    record["roomId"] = room_id = conn["roomId"]
    peer_id = conn.get("peerId")
    if not peer_id:
        c.table("CONNECTIONS_TABLE").delete_item(Key={"connectionId": me})
        return c.ws_ok()
    record["peerId"] = peer_id
    room = c.table("ROOMS_TABLE").get_item(Key={"roomId": room_id}, ConsistentRead=True).get("Item") or {}
    members = dict(room.get("members") or {})
    c.depart(event, room_id, [(peer_id, me)], members, record)
    return c.ws_ok()
