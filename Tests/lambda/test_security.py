"""Forged, alg-none and expired tokens; wrong and rotated API keys; oversized
bodies; malformed JSON: each gets the documented error and changes nothing."""

import base64
import hashlib
import hmac
import json
import time

import pytest

import apigw_events as ev
import otter_common
import otter_store
import otter_tokens
import ws_authorizer
from helpers import create_room, join
from otter_cloud import Refused


def b64(obj):
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(header, claims, key=None, alg=hashlib.sha256):
    signing_input = f"{b64(header)}.{b64(claims)}"
    sig = b"" if key is None else hmac.new(key.encode(), signing_input.encode(), alg).digest()
    return f"{signing_input}.{b64(sig)}"


def claims_for(room, **over):
    c = {"iss": "otter", "aud": "otter-room", "sub": room["roomId"], "iat": int(time.time()),
         "exp": int(time.time()) + 600, "maxPeers": room["maxPeers"]}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def bad_tokens(cloud, room):
    hs = {"alg": "HS256", "typ": "JWT"}
    good = cloud.SIGNING_SECRET
    h, p, s = room["token"].split(".")
    tampered_claims = claims_for(room, maxPeers=4)
    return {
        "forged (wrong secret)": (jwt(hs, claims_for(room), "not-the-secret"), "bad-token"),
        "alg none, no signature": (jwt({"alg": "none", "typ": "JWT"}, claims_for(room)), "bad-token"),
        "alg None, real signature": (jwt({"alg": "None"}, claims_for(room), good), "bad-token"),
        "alg HS512": (jwt({"alg": "HS512"}, claims_for(room), good, hashlib.sha512), "bad-token"),
        "alg RS256": (jwt({"alg": "RS256"}, claims_for(room), good), "bad-token"),
        "expired": (jwt(hs, claims_for(room, exp=int(time.time()) - 1), good), "token-expired"),
        "no exp": (jwt(hs, claims_for(room, exp=None), good), "bad-token"),
        "wrong aud": (jwt(hs, claims_for(room, aud="otter-admin"), good), "bad-token"),
        "wrong iss": (jwt(hs, claims_for(room, iss="evil"), good), "bad-token"),
        "maxPeers 9": (jwt(hs, claims_for(room, maxPeers=9), good), "bad-token"),
        "claims swapped under old signature": (f"{h}.{b64(tampered_claims)}.{s}", "bad-token"),
        "truncated signature": (f"{h}.{p}.{s[:-4]}", "bad-token"),
        "two parts": (f"{h}.{p}", "bad-token"),
        "garbage": ("not a token", "bad-token"),
    }


def test_bad_tokens_refused_everywhere(gw, cloud):
    room = create_room(gw, cloud, maxPeers=2)
    for name, (token, code) in bad_tokens(cloud, room).items():
        before = cloud.state_snapshot()
        with pytest.raises(Refused) as refused:
            gw.connect(token)
        assert refused.value.status == 401, name
        for path in (f"/rooms/{room['roomId']}", f"/rooms/{room['roomId']}/ice-servers"):
            status, _, raw = gw.http("GET", path, {"authorization": f"Bearer {token}"})
            body = json.loads(raw)
            assert status == 401 and body["error"]["code"] == code, (name, path, body)
        assert cloud.state_snapshot() == before, name
    # and the real token still works
    assert gw.connect(room["token"])


def test_authorizer_refuses_missing_token_and_unknown_room(gw, cloud):
    with pytest.raises(Refused):
        gw.connect(None)
    ghost = otter_tokens.make_room_token("ghostroom", 2, time.time(), time.time() + 60, cloud.SIGNING_SECRET)
    with pytest.raises(Refused) as r:
        gw.connect(ghost)
    assert r.value.status == 401
    assert cloud.scan("CONNECTIONS_TABLE") == []


def test_ws_authorizer_policy_and_context(gw, cloud):
    room = create_room(gw, cloud, maxPeers=3)
    event = ev.ws_authorizer_event("abcdefghijklmno=", room["token"])
    out = ws_authorizer.handler(event, None)
    assert out["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]
    assert out["context"]["roomId"] == room["roomId"] and out["context"]["maxPeers"] == 3
    assert out["context"]["tokenExp"] == room["expiresAt"]
    for v in out["context"].values():  # API Gateway allows only string, number and boolean values
        assert isinstance(v, (str, int, float, bool))


def test_signature_checked_before_claims_are_read(gw, cloud, monkeypatch):
    """A forged token never gets its payload decoded."""
    room = create_room(gw, cloud)
    forged = jwt({"alg": "HS256"}, claims_for(room), "wrong")
    real_loads = json.loads
    seen = []
    monkeypatch.setattr(otter_tokens.json, "loads", lambda s, *a, **k: seen.append(s) or real_loads(s, *a, **k))
    with pytest.raises(otter_common.OtterError):
        otter_tokens.verify_token(forged, cloud.SIGNING_SECRET)
    assert len(seen) == 1  # the header only
    seen.clear()
    otter_tokens.verify_token(room["token"], cloud.SIGNING_SECRET)
    assert len(seen) == 2


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "otk_wrong"}, {"x-api-key": ""}, {"X-Api-Key": "x" * 10000}])
def test_wrong_api_key(gw, cloud, headers):
    before = cloud.state_snapshot()
    for method, path in (("POST", "/rooms"), ("POST", "/keys/rotate")):
        status, _, raw = gw.http(method, path, headers, b'{"maxPeers":2}')
        assert status == 401 and json.loads(raw)["error"]["code"] == "unauthorized"
    assert cloud.state_snapshot() == before


def test_api_key_compared_in_constant_time(gw, cloud, monkeypatch):
    calls = []
    real = otter_tokens.hmac.compare_digest
    monkeypatch.setattr(otter_tokens.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    gw.http("POST", "/rooms", {"x-api-key": "otk_wrong"})
    assert calls


def test_rotation_refuses_old_key_and_keeps_rooms(gw, cloud):
    room = create_room(gw, cloud)
    old = cloud.api_key
    status, _, raw = gw.http("POST", "/keys/rotate", {"x-api-key": old})
    assert status == 200
    new = json.loads(raw)["apiKey"]
    assert new != old and new.startswith("otk_") and len(base64.urlsafe_b64decode(new[4:] + "=")) == 32
    # only the hash is stored
    assert cloud.stored_key_hash() == hashlib.sha256(new.encode()).hexdigest()
    assert new not in json.dumps(cloud.scan("CONFIG_TABLE"))
    before = cloud.state_snapshot()
    for method, path in (("POST", "/rooms"), ("POST", "/keys/rotate")):
        status, _, raw = gw.http(method, path, {"x-api-key": old})
        assert status == 401 and json.loads(raw)["error"]["code"] == "unauthorized"
    assert cloud.state_snapshot() == before
    # room links made before the rotation keep working
    assert gw.http("GET", f"/rooms/{room['roomId']}", {"authorization": f"Bearer {room['token']}"})[0] == 200
    a = join(gw, room)
    assert gw.messages(a)[0]["type"] == "welcome"
    # the new key works
    assert gw.http("POST", "/rooms", {"x-api-key": new})[0] == 201


def test_oversized_body(gw, cloud):
    before = cloud.state_snapshot()
    body = json.dumps({"maxPeers": 2, "pad": "x" * (64 * 1024)}).encode()
    status, _, raw = gw.http("POST", "/rooms", {"x-api-key": cloud.api_key}, body)
    assert status == 413 and json.loads(raw)["error"]["code"] == "too-large"
    assert cloud.state_snapshot() == before


def test_malformed_json_frames_change_nothing(gw, cloud):
    room = create_room(gw, cloud)
    a, b = join(gw, room), join(gw, room)
    gw.messages(a), gw.messages(b)
    before = cloud.state_snapshot()
    for frame in ['{"action":"join"', '{"action":"signal","to":', "\x00\x01", "null", "{}"]:
        gw.send(a, frame)
        [err] = gw.messages(a)
        assert err == {"type": "error", "code": "bad-message", "message": err["message"]} and err["message"]
    assert gw.messages(b) == []
    assert cloud.state_snapshot() == before


def test_secrets_read_once_per_container(gw, cloud):
    import boto3
    calls = []
    hook = lambda **kw: calls.append(1)  # noqa: E731  (observes, does not change the call)
    boto3._get_default_session().events.register("before-call.secrets-manager.GetSecretValue", hook)
    otter_store.reset_caches()
    try:
        for _ in range(3):
            create_room(gw, cloud)
        assert len(calls) == 1
        # a new container reads it again
        otter_store.reset_caches()
        create_room(gw, cloud)
        assert len(calls) == 2
    finally:
        boto3._get_default_session().events.unregister("before-call.secrets-manager.GetSecretValue", hook)


def test_max_peers_default_from_environment(gw, cloud, monkeypatch):
    monkeypatch.setenv("MAX_PEERS_DEFAULT", "3")
    assert create_room(gw, cloud)["maxPeers"] == 3


def test_connect_without_authorizer_context_verifies_the_token(gw, cloud):
    """If the $connect route were wired without the authorizer, $connect itself
    refuses a bad token (defence in depth) and accepts a good one."""
    import ws_connect
    room = create_room(gw, cloud)
    forged = jwt({"alg": "HS256"}, claims_for(room), "wrong")
    for token, status in ((forged, 401), (None, 401), (room["token"], 200)):
        cid = ev.new_connection_id()
        out = ws_connect.handler(ev.ws_connect_event(cid, token, None, 1), None)
        assert out["statusCode"] == status
        assert (cloud.connection_item(cid) is not None) == (status == 200)
