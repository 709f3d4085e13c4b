"""The Lambda test router (otter_cloud.Gateway) builds its table from
openapi.json's `x-otter-lambda` operations: each must reach, through the
router, the handler module it names, with API Gateway's route key."""

import importlib

import pytest

import otter_cloud


@pytest.mark.parametrize("method,path,module", otter_cloud.cloud_operations(), ids=lambda v: str(v))
def test_router_sends_each_openapi_operation_to_its_handler(gw, monkeypatch, method, path, module):
    assert callable(getattr(importlib.import_module(module), "handler", None)), f"{module}.handler missing"
    seen = []

    class Recorder:
        @staticmethod
        def handler(event, context):
            seen.append(event)
            return {"statusCode": 200, "body": ""}

    monkeypatch.setattr(otter_cloud, "handler_module", lambda name: Recorder if name == module else pytest.fail(name))
    concrete = path.replace("{roomId}", "room-1")
    status, _, _ = gw.http(method, concrete)
    assert status == 200 and len(seen) == 1, f"{method} {path} not routed to {module}"
    assert seen[0]["routeKey"] == f"{method} {path}"


def test_openapi_marks_cloud_operations():
    ops = {(m, p) for m, p, _ in otter_cloud.cloud_operations()}
    assert ("POST", "/rooms") in ops and ("GET", "/healthz") in ops


def test_router_takes_websocket_routes_from_the_template():
    """The stand-in's WebSocket table is the template's SignalApi, not a copy:
    every route and the authorizer name a handler module that exists."""
    table = otter_cloud.ws_handlers()
    assert {"$connect", "$disconnect", "$default", "join", "signal", "ping", None} <= set(table)
    for key, module in table.items():
        assert callable(getattr(importlib.import_module(module), "handler", None)), f"{key} → {module}"
