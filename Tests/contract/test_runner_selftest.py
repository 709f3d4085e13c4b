"""The scenario runner must fail when an implementation deviates: its pattern
matcher and step checks are tested here against a tiny in-memory target."""

import json

import pytest

from adapter import Closed, HttpResponse, Socket, Target
from runner import Runner, StepFailed


class Echo(Socket):
    def __init__(self, frames, closed=False):
        self.frames, self.closed = list(frames), closed

    def send_text(self, text):
        pass

    def receive(self, timeout):
        if self.frames:
            return self.frames.pop(0)
        if self.closed:
            raise Closed()
        raise TimeoutError()

    def close(self):
        pass


class Canned(Target):
    receive_timeout = silence_timeout = 0

    def __init__(self, status=200, body=b"{}", frames=(), closed=False):
        self.resp = HttpResponse(status, {}, body)
        self.frames, self.closed = frames, closed

    def api_key(self):
        return "k"

    def signing_secret(self):
        return b"s"

    def turn_secret(self):
        return b"t"

    def http(self, method, path, headers, body):
        return self.resp

    def ws_connect(self, token):
        return Echo([json.dumps(f) for f in self.frames], self.closed)


def run(target, steps):
    Runner(target, {"name": "t", "steps": steps}).run()


def test_status_and_error_shape_are_checked():
    with pytest.raises(StepFailed):
        run(Canned(200), [{"do": "health", "expect": {"status": 201}}])
    with pytest.raises(StepFailed):
        run(Canned(401, b'{"message":"Unauthorized"}'), [{"do": "health", "expect": {"status": 401, "error": "unauthorized"}}])
    run(Canned(401, b'{"error":{"code":"unauthorized","message":"m"}}'),
        [{"do": "health", "expect": {"status": 401, "error": "unauthorized"}}])
    # `error` pins DESIGN's body exactly: no extra keys, a non-empty message
    for body in (b'{"message":"Forbidden","error":{"code":"unauthorized","message":"m"}}',
                 b'{"error":{"code":"unauthorized","message":"m","detail":1}}',
                 b'{"error":{"code":"unauthorized","message":""}}',
                 b'{"error":{"code":"unauthorized"}}'):
        with pytest.raises(StepFailed):
            run(Canned(401, body), [{"do": "health", "expect": {"status": 401, "error": "unauthorized"}}])


@pytest.mark.parametrize("pattern,actual,ok", [
    ({"type": "welcome", "peers": []}, {"type": "welcome", "peers": [], "peerId": "x"}, True),
    ({"type": "welcome", "peers": []}, {"type": "welcome", "peers": ["y"]}, False),
    ({"type": "pong"}, {"type": "pongx"}, False),
    ({"n": {"$type": "integer"}}, {"n": "3"}, False),
    ({"n": {"$type": "integer"}}, {"n": True}, False),
    ({"n": 1}, {"n": True}, False),
    ({"p": {"$unordered": ["a", "b"]}}, {"p": ["b", "a"]}, True),
    ({"p": {"$unordered": ["a", "b"]}}, {"p": ["a"]}, False),
    ({"k": {"absent": True}}, {"k": 1}, False),
    ({"u": {"$endswith": "/x"}}, {"u": "https://h/x"}, True),
    ({"u": {"$regex": "[a-z]+"}}, {"u": "abc1"}, False),
])
def test_patterns(pattern, actual, ok):
    steps = [{"do": "ws_connect", "peer": "a", "token": "t"},
             {"do": "ws_expect", "peer": "a", "message": pattern}]
    if ok:
        run(Canned(frames=[actual]), steps)
    else:
        with pytest.raises(StepFailed):
            run(Canned(frames=[actual]), steps)


def test_silence_closed_and_refusal_are_checked():
    with pytest.raises(StepFailed):
        run(Canned(frames=[{"type": "x"}]), [{"do": "ws_connect", "peer": "a", "token": "t"},
                                              {"do": "ws_expect_silence", "peer": "a"}])
    with pytest.raises(StepFailed):
        run(Canned(), [{"do": "ws_connect", "peer": "a", "token": "t"}, {"do": "ws_expect_closed", "peer": "a"}])
    run(Canned(closed=True), [{"do": "ws_connect", "peer": "a", "token": "t"}, {"do": "ws_expect_closed", "peer": "a"}])
    with pytest.raises(StepFailed):  # accepted although 401 was expected
        run(Canned(), [{"do": "ws_connect", "peer": "a", "token": "t", "expect_status": 401}])


def test_ice_credentials_are_verified():
    body = {"iceServers": [{"urls": ["turn:h:3478"], "username": "1:room", "credential": "x"}], "ttlSeconds": 3600}
    with pytest.raises(StepFailed):
        run(Canned(200, json.dumps(body).encode()), [{"do": "ice_servers", "roomId": "room", "token": "t"}])
