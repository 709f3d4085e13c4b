"""Concurrent joins never exceed maxPeers: each join is a separate "Lambda
container" (thread), all racing for the seats of one room; every AWS call goes
over HTTP to a moto server that, like DynamoDB for a single item, applies one
request at a time."""

import json
import threading

import pytest

import otter_cloud


@pytest.mark.parametrize("max_peers,joiners", [(2, 8), (3, 10), (4, 12)])
def test_concurrent_joins_never_exceed_max_peers(serial_moto, monkeypatch, max_peers, joiners):
    cloud = otter_cloud.Cloud(prefix=f"conc{max_peers}")
    monkeypatch.setenv("WS_ENDPOINT", serial_moto)
    gw = otter_cloud.Gateway()
    try:
        status, _, raw = gw.http("POST", "/rooms", {"x-api-key": cloud.api_key},
                                 json.dumps({"maxPeers": max_peers}).encode())
        room = json.loads(raw)
        cids = [gw.connect(room["token"]) for _ in range(joiners)]
        barrier = threading.Barrier(joiners)
        errors = []

        def run(cid):
            try:
                barrier.wait()
                gw.send(cid, '{"action":"join"}')
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(c,)) for c in cids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors

        firsts = {c: gw.messages(c) for c in cids}
        welcomed = [c for c in cids if any(m["type"] == "welcome" for m in firsts[c])]
        refused = [c for c in cids if any(m.get("code") == "room-full" for m in firsts[c])]
        assert len(welcomed) == max_peers
        assert len(refused) == joiners - max_peers
        assert all(gw.is_closed(c) for c in refused)
        members = cloud.room_item(room["roomId"])["members"]["M"]
        assert sorted(v["S"] for v in members.values()) == sorted(welcomed)
        # every seated peer learns of every other seated peer exactly once
        ids = {c: next(m["peerId"] for m in firsts[c] if m["type"] == "welcome") for c in welcomed}
        for c in welcomed:
            welcome = next(m for m in firsts[c] if m["type"] == "welcome")
            joined = [m["peerId"] for m in firsts[c] if m["type"] == "peer-joined"]
            assert sorted(welcome["peers"] + joined) == sorted(v for k, v in ids.items() if k != c)
    finally:
        gw.shutdown()
