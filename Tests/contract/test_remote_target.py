"""RemoteTarget (real HTTP + WebSocket client) passes the whole contract suite
against the Lambda handlers behind lambda_http_front — so the adapter a
running `otter up` (or a deployed stack) needs is itself tested."""

import os

import pytest

from runner import Runner, ScenarioSkipped
from test_contract import _cases

pytestmark = pytest.mark.skipif(os.environ.get("OTTER_CONTRACT_TARGET", "lambda") != "lambda",
                                reason="runs with the lambda target only")


@pytest.fixture(scope="module")
def front():
    import lambda_target  # noqa: F401  (paths, AWS test environment)
    from moto import mock_aws
    import otter_cloud
    from lambda_http_front import LambdaFront
    for k, v in lambda_target._AWS_ENV.items():
        os.environ[k] = v
    with mock_aws():
        cloud = otter_cloud.Cloud(prefix="remote")
        gw = otter_cloud.Gateway()
        f = LambdaFront(gw).start()
        try:
            yield f, cloud
        finally:
            f.stop()
            gw.shutdown()


@pytest.fixture(scope="module")
def target(front):
    from remote_target import RemoteTarget
    f, cloud = front
    return RemoteTarget(f.api_url, f.signal_url, cloud.api_key, cloud.SIGNING_SECRET, cloud.TURN_SECRET)


@pytest.mark.parametrize("scenario", list(_cases()))
def test_scenario_over_real_sockets(target, scenario):
    runner = Runner(target, scenario)
    try:
        runner.run()
    except ScenarioSkipped as skip:
        pytest.skip(str(skip))
    finally:
        runner.close_all()


def test_refused_upgrade_is_http_401(front):
    import websocket
    f, _ = front
    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(f.signal_url + "?token=forged.token.here", timeout=5)
    assert err.value.status_code == 401
