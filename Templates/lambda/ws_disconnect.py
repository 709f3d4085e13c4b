"""$disconnect: frees the seat and tells the others ``peer-left``."""

import otter_common as c
import otter_store
import otter_ws


@c.logged("ws_disconnect")
def handler(event, context, record):
    me = event["requestContext"]["connectionId"]
    conn = otter_ws.get_connection(me)
    if conn is None:
        return otter_ws.ws_ok()
    record["roomId"] = room_id = conn["roomId"]
    peer_id = conn.get("peerId")
    if not peer_id:
        otter_store.table("CONNECTIONS_TABLE").delete_item(Key={"connectionId": me})
        return otter_ws.ws_ok()
    record["peerId"] = peer_id
    room = otter_store.table("ROOMS_TABLE").get_item(Key={"roomId": room_id}, ConsistentRead=True).get("Item") or {}
    members = dict(room.get("members") or {})
    otter_ws.depart(event, room_id, [(peer_id, me)], members, record)
    return otter_ws.ws_ok()
