"""Signaling on the Lambda handlers: every message asserted here was posted by
a handler through boto3's apigatewaymanagementapi client to moto and read back
from moto's backend."""

import json

import pytest
from botocore.awsrequest import AWSResponse

import otter_common
import otter_store
import otter_tokens
from helpers import create_room, join
from otter_cloud import backend_key


def send(gw, cid, frame):
    gw.send(cid, json.dumps(frame) if not isinstance(frame, str) else frame)


def test_two_peers_join_and_signal(gw, cloud):
    room = create_room(gw, cloud, maxPeers=2)
    a = join(gw, room)
    [welcome_a] = gw.messages(a)
    assert welcome_a["type"] == "welcome" and welcome_a["peers"] == []
    b = join(gw, room)
    [welcome_b] = gw.messages(b)
    assert welcome_b["peers"] == [welcome_a["peerId"]]
    assert gw.messages(a) == [{"type": "peer-joined", "peerId": welcome_b["peerId"]}]

    offer = {"sdp": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}
    send(gw, a, {"action": "signal", "to": welcome_b["peerId"], "data": offer})
    assert gw.messages(b) == [{"type": "signal", "from": welcome_a["peerId"], "data": offer}]
    cand = {"candidate": {"candidate": "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host", "sdpMid": "0"}}
    send(gw, b, {"action": "signal", "to": welcome_a["peerId"], "data": cand})
    assert gw.messages(a) == [{"type": "signal", "from": welcome_b["peerId"], "data": cand}]
    assert gw.messages(b) == []

    # the room records exactly these two seats
    members = cloud.room_item(room["roomId"])["members"]["M"]
    assert sorted(members) == sorted([welcome_a["peerId"], welcome_b["peerId"]])


def test_signals_arrive_in_order(gw, cloud):
    room = create_room(gw, cloud)
    a, b = join(gw, room), join(gw, room)
    pb = gw.messages(b)[0]["peerId"]
    gw.messages(a)
    for i in range(100):
        send(gw, a, {"action": "signal", "to": pb, "data": {"seq": i}})
    got = gw.messages(b)
    assert [m["data"]["seq"] for m in got] == list(range(100))


def test_third_peer_gets_room_full_and_is_closed(gw, cloud):
    room = create_room(gw, cloud, maxPeers=2)
    a, b = join(gw, room), join(gw, room)
    gw.messages(a), gw.messages(b)
    c = join(gw, room)
    [err] = gw.messages(c)
    assert err["type"] == "error" and err["code"] == "room-full" and err["message"]
    assert gw.is_closed(c)
    # the refused peer never counted, and leaving announces nothing
    assert len(cloud.room_item(room["roomId"])["members"]["M"]) == 2
    assert gw.messages(a) == [] and gw.messages(b) == []
    assert cloud.connection_item(c) is None


def test_four_peer_mesh(gw, cloud):
    room = create_room(gw, cloud, maxPeers=4)
    cids = [join(gw, room) for _ in range(4)]
    inbox = {c: gw.messages(c) for c in cids}
    ids = [inbox[c][0]["peerId"] for c in cids]  # welcome first
    assert [m["peerId"] for m in inbox[cids[0]][1:]] == ids[1:]
    assert inbox[cids[3]][0]["peers"] == sorted(ids[:3])
    fifth = join(gw, room)
    assert gw.messages(fifth)[0]["code"] == "room-full"


def test_signal_to_other_room_is_refused(gw, cloud):
    r1, r2 = create_room(gw, cloud), create_room(gw, cloud)
    a = join(gw, r1)
    x = join(gw, r2)
    pa = gw.messages(a)[0]["peerId"]
    px = gw.messages(x)[0]["peerId"]
    send(gw, a, {"action": "signal", "to": px, "data": {"sdp": "hi"}})
    [err] = gw.messages(a)
    assert err["type"] == "error" and err["code"] == "unknown-peer"
    assert gw.messages(x) == []
    send(gw, a, {"action": "signal", "to": "nobody", "data": {}})
    assert gw.messages(a)[0]["code"] == "unknown-peer"
    send(gw, a, {"action": "signal", "to": pa, "data": {}})  # to itself
    assert gw.messages(a)[0]["code"] == "unknown-peer"


def test_connection_record_expires_with_the_token(gw, cloud):
    """$disconnect is best effort on AWS, so every connection record carries the
    connections table's TTL attribute, expiresAt = the room token's exp: a row
    whose $disconnect never came is deleted by DynamoDB TTL. (DynamoDB TTL takes
    epoch seconds in a Number attribute and deletes some time after it:
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html)"""
    ttl = cloud.ddb.describe_time_to_live(TableName=cloud.tables["CONNECTIONS_TABLE"])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expiresAt"
    room = create_room(gw, cloud, ttlSeconds=600)
    a = gw.connect(room["token"])
    item = cloud.connection_item(a)
    assert item["expiresAt"] == {"N": str(room["expiresAt"])}
    assert json.loads(otter_tokens.b64url_decode(room["token"].split(".")[1]))["exp"] == room["expiresAt"]
    # joining keeps it
    send(gw, a, {"action": "join"})
    assert gw.messages(a)[0]["type"] == "welcome"
    assert cloud.connection_item(a)["expiresAt"] == {"N": str(room["expiresAt"])}


def test_peer_left_on_disconnect(gw, cloud):
    room = create_room(gw, cloud, maxPeers=3)
    a, b, c = join(gw, room), join(gw, room), join(gw, room)
    pb = gw.messages(b)[0]["peerId"]
    gw.messages(a), gw.messages(c)
    gw.close(b)
    assert gw.messages(a) == [{"type": "peer-left", "peerId": pb}]
    assert gw.messages(c) == [{"type": "peer-left", "peerId": pb}]
    assert pb not in cloud.room_item(room["roomId"])["members"]["M"]
    assert cloud.connection_item(b) is None
    # the seat is free again
    d = join(gw, room)
    assert gw.messages(d)[0]["type"] == "welcome"


def test_ping_pong_and_errors(gw, cloud):
    room = create_room(gw, cloud)
    a = join(gw, room)
    gw.messages(a)
    send(gw, a, {"action": "ping"})
    assert gw.messages(a) == [{"type": "pong"}]
    for frame in ["not json", "[1,2]", '{"no":"action"}', '{"action":"dance"}', '{"action":5}']:
        send(gw, a, frame)
        [err] = gw.messages(a)
        assert err["type"] == "error" and err["code"] == "bad-message", frame
    send(gw, a, {"action": "signal", "to": "x"})  # no data
    assert gw.messages(a)[0]["code"] == "bad-message"
    send(gw, a, {"action": "signal", "data": {}})  # no to
    assert gw.messages(a)[0]["code"] == "bad-message"


def test_frame_limit_is_api_gateways_32_kb():
    """API Gateway closes the socket (1009) on a WebSocket frame over "32 KB";
    the handlers' limit is the stricter reading, 32,000 bytes, so every frame
    they accept also passes API Gateway.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"""
    assert otter_common.MAX_FRAME_BYTES == 32_000


@pytest.mark.parametrize("action", ["join", "signal", "ping", "dance"])
def test_frames_over_the_limit_are_too_large(gw, cloud, action):
    limit = otter_common.MAX_FRAME_BYTES
    room = create_room(gw, cloud)
    a, b = join(gw, room), join(gw, room)
    pb = gw.messages(b)[0]["peerId"]
    gw.messages(a)
    before = cloud.state_snapshot()
    frame = {"action": action, "to": pb, "data": {"sdp": ""}}
    base = len(json.dumps(frame))
    frame["data"]["sdp"] = "x" * (limit - base + 1)
    assert len(json.dumps(frame).encode()) == limit + 1
    send(gw, a, frame)
    [err] = gw.messages(a)
    assert err["type"] == "error" and err["code"] == "too-large"
    assert gw.messages(b) == []
    assert cloud.state_snapshot() == before
    # exactly the limit is accepted
    frame["data"]["sdp"] = frame["data"]["sdp"][1:]
    assert len(json.dumps(frame).encode()) == limit
    send(gw, a, frame)
    if action == "signal":
        assert gw.messages(b)[0]["type"] == "signal"
    else:
        assert all(m.get("code") != "too-large" for m in gw.messages(a))


def test_join_twice_is_refused(gw, cloud):
    room = create_room(gw, cloud, maxPeers=3)
    a = join(gw, room)
    gw.messages(a)
    send(gw, a, {"action": "join"})
    assert gw.messages(a)[0]["code"] == "bad-message"
    assert len(cloud.room_item(room["roomId"])["members"]["M"]) == 1


def test_signal_before_join_is_refused(gw, cloud):
    room = create_room(gw, cloud)
    a = join(gw, room)
    pa = gw.messages(a)[0]["peerId"]
    b = gw.connect(room["token"])
    send(gw, b, {"action": "signal", "to": pa, "data": {}})
    assert gw.messages(b)[0]["code"] == "bad-message"
    assert gw.messages(a) == []


def test_join_after_token_expiry(gw, cloud, monkeypatch):
    room = create_room(gw, cloud, ttlSeconds=60)
    a = gw.connect(room["token"])
    t = otter_common.now()
    monkeypatch.setattr(otter_common, "now", lambda: t + 61)
    send(gw, a, {"action": "join"})
    [err] = gw.messages(a)
    assert err["code"] == "token-expired"
    assert gw.is_closed(a)
    assert cloud.room_item(room["roomId"])["members"]["M"] == {}


class _Gone:
    """THE ONE STUB in this suite: moto never answers GoneException (every
    connection id "exists" there), so the management API calls
    (PostToConnection, GetConnection) for one chosen connection id are
    answered with API Gateway's 410 GoneException by a botocore before-call
    hook. Every other call still goes to moto."""

    def __init__(self, connection_id):
        self.connection_id = connection_id
        self.calls = 0

    def __call__(self, params, **kwargs):
        # before-call sees the request dict: the connection id is the last path segment
        if not params.get("url_path", "").endswith("/@connections/" + backend_key(self.connection_id)):
            return None
        self.calls += 1
        http = AWSResponse("https://execute-api", 410, {}, None)
        parsed = {"Error": {"Code": "GoneException", "Message": ""},
                  "ResponseMetadata": {"HTTPStatusCode": 410}}
        return http, parsed


_GONE_OPS = ("PostToConnection", "GetConnection")


def _install_gone(connection_id):
    import boto3
    stub = _Gone(connection_id)
    for op in _GONE_OPS:
        boto3._get_default_session().events.register(f"before-call.apigatewaymanagementapi.{op}", stub)
    otter_store.reset_caches()  # the handlers' client must be created after the hook
    return stub


def _remove_gone(stub):
    import boto3
    for op in _GONE_OPS:
        boto3._get_default_session().events.unregister(f"before-call.apigatewaymanagementapi.{op}", stub)
    otter_store.reset_caches()


def test_stale_connection_is_removed_on_signal(gw, cloud):
    room = create_room(gw, cloud, maxPeers=3)
    a, b, c = join(gw, room), join(gw, room), join(gw, room)
    pb = gw.messages(b)[0]["peerId"]
    gw.messages(a), gw.messages(c)
    stub = _install_gone(b)  # b vanished without a $disconnect
    try:
        send(gw, a, {"action": "signal", "to": pb, "data": {"sdp": "x"}})
        assert stub.calls == 1  # tried once, never retried
        assert gw.messages(a) == [{"type": "peer-left", "peerId": pb}]
        assert gw.messages(c) == [{"type": "peer-left", "peerId": pb}]
        assert pb not in cloud.room_item(room["roomId"])["members"]["M"]
        assert cloud.connection_item(b) is None
        send(gw, a, {"action": "signal", "to": pb, "data": {"sdp": "x"}})
        assert gw.messages(a)[0]["code"] == "unknown-peer"
        assert stub.calls == 1
    finally:
        _remove_gone(stub)


def test_stale_connections_removed_when_broadcasting(gw, cloud):
    room = create_room(gw, cloud, maxPeers=4)
    a, b, c = join(gw, room), join(gw, room), join(gw, room)
    pa, pb = gw.messages(a)[0]["peerId"], gw.messages(b)[0]["peerId"]
    gw.messages(a), gw.messages(b), gw.messages(c)
    stub = _install_gone(a)
    try:
        gw.close(c)  # peer-left to a (gone) and b
        d = join(gw, room)
        ids = set(cloud.room_item(room["roomId"])["members"]["M"])
        assert pa not in ids and pb in ids and len(ids) == 2
        assert cloud.connection_item(a) is None
        msgs = gw.messages(b)
        assert {"type": "peer-left", "peerId": pa} in msgs
        assert stub.calls == 1
        assert gw.messages(d)[0]["type"] == "welcome"
    finally:
        _remove_gone(stub)


def test_logs_hold_no_secrets(gw, cloud, capsys):
    room = create_room(gw, cloud)
    a, b = join(gw, room), join(gw, room)
    pb = gw.messages(b)[0]["peerId"]
    send(gw, a, {"action": "signal", "to": pb, "data": {"sdp": "v=0 SECRET-SDP-LINE"}})
    gw.http("POST", "/keys/rotate", {"x-api-key": cloud.api_key})
    gw.http("GET", f"/rooms/{room['roomId']}/ice-servers", {"authorization": f"Bearer {room['token']}"})
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(lines) >= 8 and all("fn" in r and "ms" in r for r in lines)
    for secret in [room["token"], room["token"].split(".")[2], cloud.api_key, "SECRET-SDP-LINE",
                   cloud.SIGNING_SECRET, cloud.TURN_SECRET]:
        assert secret not in out


def test_stale_seat_is_freed_when_the_room_looks_full(gw, cloud):
    """$disconnect is best effort on AWS: a vanished peer may still hold a seat.
    A join that finds the room full checks the seated connections once, frees
    the stale seat (peer-left to the others) and takes it."""
    room = create_room(gw, cloud, maxPeers=2)
    a, b = join(gw, room), join(gw, room)
    pa, pb = gw.messages(a)[0]["peerId"], gw.messages(b)[0]["peerId"]
    gw.messages(a)
    stub = _install_gone(b)
    try:
        c = join(gw, room)
        [welcome] = gw.messages(c)
        assert welcome["type"] == "welcome" and welcome["peers"] == [pa]
        assert gw.messages(a) == [{"type": "peer-left", "peerId": pb},
                                  {"type": "peer-joined", "peerId": welcome["peerId"]}]
        assert sorted(cloud.room_item(room["roomId"])["members"]["M"]) == sorted([pa, welcome["peerId"]])
        assert cloud.connection_item(b) is None
        assert stub.calls == 1  # one GetConnection, no retries
        # and a live full room still refuses
        d = join(gw, room)
        assert gw.messages(d)[0]["code"] == "room-full"
    finally:
        _remove_gone(stub)


class _Denied:
    """Simulates ws_join's role lacking execute-api:ManageConnections on
    GET @connections (moto cannot enforce IAM on the management API): every
    GetConnection is answered with API Gateway's 403 AccessDeniedException by a
    botocore before-call hook. Every other call still goes to moto.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html"""

    def __init__(self):
        self.calls = 0

    def __call__(self, params, **kwargs):
        self.calls += 1
        http = AWSResponse("https://execute-api", 403, {}, None)
        parsed = {"Error": {"Code": "AccessDeniedException",
                            "Message": "User is not authorized to perform: execute-api:ManageConnections"},
                  "ResponseMetadata": {"HTTPStatusCode": 403}}
        return http, parsed


def test_full_room_answers_room_full_when_get_connection_is_denied(gw, cloud, capsys):
    """A join that finds the room full checks the seats with GetConnection; if
    that call is refused (here: AccessDeniedException, as a role without the GET
    grant gets it), the joiner still gets room-full and its socket is closed —
    the handler does not raise (which API Gateway would answer with "Internal
    server error", leaving the socket open)."""
    import boto3
    room = create_room(gw, cloud, maxPeers=2)
    a, b = join(gw, room), join(gw, room)
    pa, pb = gw.messages(a)[0]["peerId"], gw.messages(b)[0]["peerId"]
    gw.messages(a)
    denied = _Denied()
    boto3._get_default_session().events.register("before-call.apigatewaymanagementapi.GetConnection", denied)
    otter_store.reset_caches()  # the handlers' client must be created after the hook
    try:
        capsys.readouterr()
        c = join(gw, room)  # raises if the handler raises
        assert denied.calls == 1  # denied once, not asked again for the other seat
        [err] = gw.messages(c)
        assert err == {"type": "error", "code": "room-full", "message": err["message"]} and err["message"]
        assert gw.is_closed(c)
        assert cloud.connection_item(c) is None  # $disconnect ran after the server close
        assert sorted(cloud.room_item(room["roomId"])["members"]["M"]) == sorted([pa, pb])
        assert gw.messages(a) == [] and gw.messages(b) == []
        [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"fn":"ws_join"' in x]
        assert line["code"] == "room-full" and line["staleCheckFailed"] == "AccessDeniedException"
    finally:
        boto3._get_default_session().events.unregister("before-call.apigatewaymanagementapi.GetConnection", denied)
        otter_store.reset_caches()
