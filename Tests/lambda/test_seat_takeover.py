"""Seat takeover on the Lambda handlers (DESIGN.md "Seat takeover"): a browser
whose socket died silently rejoins on a new socket with the ``resume`` key of
its old welcome and gets its seat back at once, even in a full room.

Every frame asserted here was posted by a handler through boto3's
apigatewaymanagementapi client to moto and read back from moto's backend. The
old socket's close is the handler's real DeleteConnection call, which moto
answers; the test gateway observes it and runs $disconnect as API Gateway does."""

import hashlib
import json

from helpers import create_room, join


def rejoin(gw, room, peer_id, key):
    cid = gw.connect(room["token"])
    gw.send(cid, json.dumps({"action": "join", "resume": {"peerId": peer_id, "key": key}}))
    return cid


def full_room(gw, cloud, n):
    room = create_room(gw, cloud, maxPeers=n)
    cids = [join(gw, room) for _ in range(n)]
    welcomes = [gw.messages(c)[0] for c in cids]
    for c in cids:
        gw.messages(c)
    return room, cids, welcomes


def test_a_rejoin_with_its_resume_key_takes_over_its_silent_seat_in_a_full_room(gw, cloud, capsys):
    room, cids, welcomes = full_room(gw, cloud, 4)
    keys = [w["resume"] for w in welcomes]
    assert len(set(keys)) == 4 and all(len(k) == 22 for k in keys)  # 128 bits, base64url, one per socket
    stale_cid, stale = cids[1], welcomes[1]["peerId"]  # its socket went silent: API Gateway still lists it
    others = [(c, w["peerId"]) for c, w in zip(cids, welcomes) if c != stale_cid]

    fresh = rejoin(gw, room, stale, keys[1])
    [welcome] = gw.messages(fresh)
    assert welcome["type"] == "welcome" and welcome["peerId"] != stale
    assert welcome["peers"] == sorted(p for _, p in others)
    assert welcome["resume"] not in keys
    # The others see the old seat leave, then the new one arrive; no key travels to them.
    for c, _ in others:
        assert gw.messages(c) == [{"type": "peer-left", "peerId": stale},
                                  {"type": "peer-joined", "peerId": welcome["peerId"]}]
    # The old socket was closed (DeleteConnection); its $disconnect announced nothing more.
    assert gw.is_closed(stale_cid)
    assert gw.messages(stale_cid) == []
    assert cloud.connection_item(stale_cid) is None
    members = {p: v["S"] for p, v in cloud.room_item(room["roomId"])["members"]["M"].items()}
    assert members == {**{p: c for c, p in others}, welcome["peerId"]: fresh}
    # Only a hash of the key is stored, and no log line holds a key.
    item = cloud.connection_item(fresh)
    assert item["resumeHash"]["S"] == hashlib.sha256(welcome["resume"].encode()).hexdigest()
    stored, logs = json.dumps(cloud.state_snapshot()), capsys.readouterr().out
    assert "tookOver" in logs
    for key in keys + [welcome["resume"]]:
        assert key not in stored and key not in logs

    # The new seat signals both ways under its new id.
    gw.send(fresh, json.dumps({"action": "signal", "to": others[0][1], "data": {"n": 1}}))
    assert gw.messages(others[0][0]) == [{"type": "signal", "from": welcome["peerId"], "data": {"n": 1}}]


def test_a_claim_that_does_not_match_is_a_plain_join_and_the_full_room_refuses_it(gw, cloud):
    room, cids, welcomes = full_room(gw, cloud, 2)
    elsewhere, _, other_welcomes = full_room(gw, cloud, 2)
    target = welcomes[1]["peerId"]
    claims = [
        (target, welcomes[1]["resume"][::-1]),  # wrong key
        (target, welcomes[0]["resume"]),  # another seat's key
        ("nobody", welcomes[1]["resume"]),  # unknown id
        (other_welcomes[0]["peerId"], other_welcomes[0]["resume"]),  # a valid seat of another room
    ]
    before = cloud.state_snapshot()
    for peer_id, key in claims:
        c = rejoin(gw, room, peer_id, key)
        [error] = gw.messages(c)
        assert error["type"] == "error" and error["code"] == "room-full"
        assert error["message"] == "this room is full (2 people)"
        assert gw.is_closed(c)
    # Nothing changed: no seat, no record, no frame, no socket closed.
    assert cloud.state_snapshot() == before
    for c in cids:
        assert gw.messages(c) == [] and not gw.is_closed(c)


def test_a_resume_key_takes_its_seat_over_once(gw, cloud):
    room, cids, welcomes = full_room(gw, cloud, 2)
    fresh = rejoin(gw, room, welcomes[1]["peerId"], welcomes[1]["resume"])
    assert gw.messages(fresh)[0]["type"] == "welcome"
    again = rejoin(gw, room, welcomes[1]["peerId"], welcomes[1]["resume"])
    assert gw.messages(again)[0]["code"] == "room-full"
    assert len(cloud.room_item(room["roomId"])["members"]["M"]) == 2


def test_a_malformed_claim_is_ignored_not_refused(gw, cloud):
    room = create_room(gw, cloud, maxPeers=4)
    a = join(gw, room)
    pa = gw.messages(a)[0]["peerId"]
    for resume in ["p:k", None, [], {}, {"peerId": pa}, {"peerId": pa, "key": 5}, {"peerId": pa, "key": "k" * 129}]:
        c = gw.connect(room["token"])
        gw.send(c, json.dumps({"action": "join", "resume": resume}))
        [welcome] = gw.messages(c)
        assert welcome["type"] == "welcome" and pa in welcome["peers"], resume
        gw.close(c)
    assert not gw.is_closed(a)
    assert list(cloud.room_item(room["roomId"])["members"]["M"]) == [pa]
