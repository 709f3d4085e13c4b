import json


def create_room(gw, cloud, **body):
    status, _, raw = gw.http("POST", "/rooms", {"x-api-key": cloud.api_key, "content-type": "application/json"},
                             json.dumps(body).encode())
    assert status == 201, raw
    return json.loads(raw)


def join(gw, room):
    cid = gw.connect(room["token"])
    gw.send(cid, json.dumps({"action": "join"}))
    return cid

