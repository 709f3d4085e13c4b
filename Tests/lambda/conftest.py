import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# moto: fake credentials and region, never a real account
for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
             "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
    os.environ[k] = v
for k in list(os.environ):
    if k.startswith("AWS_ENDPOINT_URL") or k == "AWS_PROFILE":
        del os.environ[k]

from moto import mock_aws  # noqa: E402

import otter_cloud  # noqa: E402
import iam_recorder  # noqa: E402

# Every AWS call a handler makes in this session is recorded for test_iam_coverage.py,
# which runs after the other Lambda tests.
iam_recorder.install()


def pytest_collection_modifyitems(items):
    iam_recorder.run_coverage_last(items)


@pytest.fixture
def cloud():
    with mock_aws():
        yield otter_cloud.Cloud()


@pytest.fixture
def gw(cloud):
    g = otter_cloud.Gateway()
    yield g
    g.shutdown()


@pytest.fixture
def serial_moto(monkeypatch):
    """A real moto server on 127.0.0.1 that handles ONE request at a time, in a
    thread of this process (so the test can read moto's backends). DynamoDB
    serializes the writes to one item; moto's in-process mock does not (its
    condition check and update are not atomic across threads), so concurrency
    tests use this server. The handlers reach it over HTTP through
    AWS_ENDPOINT_URL; the management API through WS_ENDPOINT (moto's server
    recognises it by the /@connections path)."""
    import threading
    import urllib.request

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *a, **k):
            pass

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
