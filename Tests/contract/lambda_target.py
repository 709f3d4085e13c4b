"""Contract target: Otter's Lambda handlers on moto (in-process mock_aws).

Requests and frames become API Gateway events (Tests/lambda/apigw_events.py)
routed like the stack's two APIs (Tests/lambda/otter_cloud.Gateway); every AWS
call the handlers make is a real boto3 call answered by moto, and the frames a
client receives are what the handlers posted with the management API, read back
from moto. Each scenario gets a fresh moto account state."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lambda"))

from adapter import Closed, HttpResponse, Refused, Socket, Target  # noqa: E402

_AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


class LambdaSocket(Socket):
    def __init__(self, gateway, connection_id):
        self.gw = gateway
        self.cid = connection_id
        self.pending = []

    def send_text(self, text):
        self.gw.send(self.cid, text)

    def receive(self, timeout):
        # Every handler has returned by now: what was posted is in moto already.
        if not self.pending:
            self.pending = [json.dumps(m) for m in self.gw.messages(self.cid)]
        if self.pending:
            return self.pending.pop(0)
        if self.gw.is_closed(self.cid):
            raise Closed()
        raise TimeoutError()

    def close(self):
        self.gw.close(self.cid)


class LambdaTarget(Target):
    receive_timeout = 0.0
    silence_timeout = 0.0

    def start(self):
        for k, v in _AWS_ENV.items():
            os.environ[k] = v
        for k in list(os.environ):
            if k.startswith("AWS_ENDPOINT_URL") or k == "AWS_PROFILE":
                del os.environ[k]
        from moto import mock_aws
        import otter_cloud
        self._mock = mock_aws()
        self._mock.start()
        self.cloud = otter_cloud.Cloud(prefix="contract")
        self.gw = otter_cloud.Gateway()
        self._key = self.cloud.api_key

    def stop(self):
        try:
            self.gw.shutdown()
        finally:
            self._mock.stop()

    def api_key(self):
        return self._key

    def key_rotated(self, new_key):
        self._key = new_key

    def signing_secret(self):
        return self.cloud.SIGNING_SECRET.encode()

    def turn_secret(self):
        return self.cloud.TURN_SECRET.encode()

    def http(self, method, path, headers, body):
        status, hdrs, raw = self.gw.http(method, path, headers, body)
        return HttpResponse(status, hdrs, raw)

    def ws_connect(self, token):
        import otter_cloud
        try:
            cid = self.gw.connect(token)
        except otter_cloud.Refused as r:
            raise Refused(r.status) from None
        return LambdaSocket(self.gw, cid)
