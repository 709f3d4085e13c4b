"""The HTTP API handlers (payload format 2.0) on moto."""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import pytest

import otter_common
import otter_store
import otter_tokens
from helpers import create_room


def call(gw, method, path, headers=None, body=None):
    status, hdrs, raw = gw.http(method, path, headers, body)
    return status, json.loads(raw) if raw else None


def bearer(room):
    return {"authorization": f"Bearer {room['token']}"}


def test_create_room_defaults(gw, cloud):
    t0 = int(time.time())
    status, room = call(gw, "POST", "/rooms", {"x-api-key": cloud.api_key})
    assert status == 201
    assert set(room) == {"roomId", "url", "token", "expiresAt", "maxPeers"}
    assert room["maxPeers"] == 2
    assert t0 + 48 * 3600 <= room["expiresAt"] <= int(time.time()) + 48 * 3600
    assert room["url"] == f"{cloud.WEB_APP_URL}/?room={room['roomId']}#token={room['token']}"
    # stored with its TTL attribute
    item = cloud.room_item(room["roomId"])
    assert int(item["expiresAt"]["N"]) == room["expiresAt"] and int(item["maxPeers"]["N"]) == 2
    ttl = cloud.ddb.describe_time_to_live(TableName=cloud.tables["ROOMS_TABLE"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt" and ttl["TimeToLiveStatus"] == "ENABLED"


def test_room_token_claims(gw, cloud):
    _, room = call(gw, "POST", "/rooms", {"x-api-key": cloud.api_key}, b'{"maxPeers":4,"ttlSeconds":3600}')
    h, p, s = room["token"].split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    header = json.loads(base64.urlsafe_b64decode(pad(h)))
    claims = json.loads(base64.urlsafe_b64decode(pad(p)))
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims["iss"] == "otter" and claims["aud"] == "otter-room" and claims["sub"] == room["roomId"]
    assert claims["maxPeers"] == 4 and claims["exp"] == room["expiresAt"] and claims["exp"] - claims["iat"] == 3600
    mac = hmac.new(cloud.SIGNING_SECRET.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == s


def test_get_room(gw, cloud):
    room = create_room(gw, cloud, maxPeers=3)
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}", bearer(room))
    assert status == 200
    assert body == {"roomId": room["roomId"], "expiresAt": room["expiresAt"], "maxPeers": 3}


def test_get_room_404_and_401(gw, cloud):
    room = create_room(gw, cloud)
    # a valid token for a room that does not exist (deleted by TTL, say)
    ghost = otter_tokens.make_room_token("ghostroom", 2, time.time(), time.time() + 60, cloud.SIGNING_SECRET)
    status, body = call(gw, "GET", "/rooms/ghostroom", {"authorization": f"Bearer {ghost}"})
    assert status == 404 and body["error"]["code"] == "not-found"
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}")
    assert status == 401 and body["error"]["code"] == "unauthorized" and body["error"]["message"]
    # another room's token
    other = create_room(gw, cloud)
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}", bearer(other))
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_expired_room_is_404_before_ttl_deletes_it(gw, cloud, monkeypatch):
    room = create_room(gw, cloud, ttlSeconds=60)
    assert call(gw, "GET", f"/rooms/{room['roomId']}", bearer(room))[0] == 200
    # a token that lives longer than the room item (both signed with the real secret)
    later = otter_tokens.make_room_token(room["roomId"], 2, time.time(), time.time() + 3600, cloud.SIGNING_SECRET)
    t = time.time()
    monkeypatch.setattr(otter_common, "now", lambda: t + 61)
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}", {"authorization": f"Bearer {later}"})
    assert status == 404
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}", bearer(room))
    assert status == 401 and body["error"]["code"] == "token-expired"


def test_ice_servers(gw, cloud):
    room = create_room(gw, cloud)
    t0 = int(time.time())
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}/ice-servers", bearer(room))
    assert status == 200 and body["ttlSeconds"] == 3600
    [server] = body["iceServers"]
    assert server["urls"] == cloud.TURN_URLS.split(",")
    expiry, _, rid = server["username"].partition(":")
    assert rid == room["roomId"] and t0 + 3600 <= int(expiry) <= int(time.time()) + 3600
    mac = hmac.new(cloud.TURN_SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(mac).decode()
    status, body = call(gw, "GET", f"/rooms/{room['roomId']}/ice-servers")
    assert status == 401


def test_health(gw, cloud):
    assert call(gw, "GET", "/healthz") == (200, {"status": "ok"})


@pytest.mark.parametrize("body,field", [
    (b'{"maxPeers":1}', "maxPeers"), (b'{"maxPeers":5}', "maxPeers"), (b'{"maxPeers":"3"}', "maxPeers"),
    (b'{"maxPeers":true}', "maxPeers"), (b'{"maxPeers":2.5}', "maxPeers"),
    (b'{"ttlSeconds":59}', "ttlSeconds"), (b'{"ttlSeconds":2592001}', "ttlSeconds"), (b'{"ttlSeconds":"1h"}', "ttlSeconds"),
    (b'{"maxPeers":', None), (b'[]', None), (b'"x"', None), (b'\xff\xfe', None),
])
def test_create_room_bad_bodies(gw, cloud, body, field):
    before = cloud.state_snapshot()
    status, resp = call(gw, "POST", "/rooms", {"x-api-key": cloud.api_key}, body)
    assert status == 400 and resp["error"]["code"] == "bad-request"
    if field:
        assert field in resp["error"]["message"]
    assert cloud.state_snapshot() == before


def test_create_room_base64_body(gw, cloud):
    ev_body = base64.b64encode(b'{"maxPeers":3}').decode()
    import apigw_events as ev
    import http_rooms
    event = ev.http_event("POST", "/rooms", "POST /rooms", {"x-api-key": cloud.api_key}, None)
    event["body"], event["isBase64Encoded"] = ev_body, True
    out = http_rooms.handler(event, None)
    assert out["statusCode"] == 201 and json.loads(out["body"])["maxPeers"] == 3


def test_url_encodes_room_and_uses_fragment(gw, cloud):
    room = create_room(gw, cloud)
    u = urllib.parse.urlsplit(room["url"])
    assert urllib.parse.parse_qs(u.query) == {"room": [room["roomId"]]}
    assert u.fragment == f"token={room['token']}"


def test_unknown_route(gw, cloud):
    assert gw.http("DELETE", "/rooms")[0] == 404


@pytest.mark.parametrize("shape", ["plain", "json-secret-key", "json-single-key"])
def test_secret_string_formats(gw, cloud, shape):
    """GenerateSecretString with or without GenerateStringKey: both work."""
    import boto3
    sm = boto3.client("secretsmanager")
    value = {"plain": cloud.SIGNING_SECRET,
             "json-secret-key": json.dumps({"secret": cloud.SIGNING_SECRET, "other": "x"}),
             "json-single-key": json.dumps({"password": cloud.SIGNING_SECRET})}[shape]
    sm.put_secret_value(SecretId=cloud.signing_arn, SecretString=value)
    otter_store.reset_caches()
    room = create_room(gw, cloud)
    # signed with the inner value: the test's own HMAC check agrees
    h, p, s = room["token"].split(".")
    mac = hmac.new(cloud.SIGNING_SECRET.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == s
    assert call(gw, "GET", f"/rooms/{room['roomId']}", bearer(room))[0] == 200
