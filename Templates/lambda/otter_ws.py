"""WebSocket API: client frames, connection records, seats and the management API."""

import base64
import binascii
import json

from botocore.exceptions import ClientError

import otter_common as common
import otter_store

def ws_endpoint(event):
    configured = common.env("WS_ENDPOINT")
    if configured:
        return configured.rstrip("/")
    rc = event["requestContext"]
    return f"https://{rc['domainName']}/{rc['stage']}"


def _mgmt(event):
    return otter_store.client("apigatewaymanagementapi", endpoint_url=ws_endpoint(event))


def is_gone(error):
    if not isinstance(error, ClientError):
        return False
    code = error.response.get("Error", {}).get("Code")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "GoneException" or status == 410


def post(event, connection_id, message):
    """Posts one JSON message; False when the connection is gone (GoneException)."""
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    try:
        _mgmt(event).post_to_connection(ConnectionId=connection_id, Data=data)
        return True
    except ClientError as exc:
        if is_gone(exc):
            return False
        raise


def connection_alive(event, connection_id):
    """False when API Gateway no longer knows the connection (GoneException)."""
    try:
        _mgmt(event).get_connection(ConnectionId=connection_id)
        return True
    except ClientError as exc:
        if is_gone(exc):
            return False
        raise


def close_connection(event, connection_id):
    try:
        _mgmt(event).delete_connection(ConnectionId=connection_id)
    except ClientError as exc:
        if not is_gone(exc):
            raise


def ws_error(code, message):
    return {"type": "error", "code": code, "message": message}


def frame_bytes(event):
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError):
            return b"\x00"  # not JSON: answered as bad-message
    return body.encode("utf-8")


def parse_frame(event):
    """The client frame as a dict, or OtterError(too-large / bad-message)."""
    raw = frame_bytes(event)
    if len(raw) > common.MAX_FRAME_BYTES:
        raise common.OtterError("too-large", common.message("frame-too-large", maxFrameBytes=common.MAX_FRAME_BYTES))
    try:
        frame = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise common.OtterError("bad-message", common.message("frame-not-object")) from None
    if not isinstance(frame, dict):
        raise common.OtterError("bad-message", common.message("frame-not-object"))
    if not isinstance(frame.get("action"), str):
        raise common.OtterError("bad-message", common.message("frame-without-action"))
    return frame


def get_connection(connection_id):
    key = {"connectionId": connection_id}
    return otter_store.table("CONNECTIONS_TABLE").get_item(Key=key, ConsistentRead=True).get("Item")


def remove_member(room_id, peer_id, connection_id):
    """Takes ``peer_id`` out of the room (only if it still maps to this connection)
    and deletes the connection record. Idempotent."""
    try:
        otter_store.table("ROOMS_TABLE").update_item(
            Key={"roomId": room_id},
            UpdateExpression="REMOVE members.#p",
            ConditionExpression="members.#p = :c",
            ExpressionAttributeNames={"#p": peer_id},
            ExpressionAttributeValues={":c": connection_id},
        )
    except ClientError as exc:
        if not otter_store.is_conditional_failure(exc):
            raise
    otter_store.table("CONNECTIONS_TABLE").delete_item(Key={"connectionId": connection_id})


def depart(event, room_id, departed, members, record=None):
    """Removes departed peers ``[(peerId, connectionId)]`` and tells the others
    ``peer-left``. A peer found gone (GoneException) while being told is removed
    the same way, once: every connection is processed at most once, so this
    always ends."""
    alive = dict(members)
    pending = list(departed)
    done = set()
    stale = 0
    while pending:
        peer_id, connection_id = pending.pop(0)
        if peer_id in done:
            continue
        done.add(peer_id)
        alive.pop(peer_id, None)
        remove_member(room_id, peer_id, connection_id)
        for other_id, other_conn in sorted(alive.items()):
            if other_id in done:
                continue
            if not post(event, other_conn, {"type": "peer-left", "peerId": peer_id}):
                stale += 1
                pending.append((other_id, other_conn))
    if record is not None and stale:
        record["staleRemoved"] = record.get("staleRemoved", 0) + stale
    return done


def ws_ok():
    return {"statusCode": 200}

