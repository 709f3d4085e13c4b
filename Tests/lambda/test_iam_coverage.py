"""IAM coverage from real calls: every AWS call a handler made in
this session's Lambda tests must be allowed by the role `otter template` gives
that handler's function. moto enforces no IAM at all, so without this a
missing grant shows only on a real deploy (ws_join's
GetConnection on a full room was denied).

The calls come from iam_recorder.py (botocore hooks installed by conftest.py
for the whole session): the other Lambda suites run first (conftest.py puts
this file last), and this module adds its own scenarios (``recorded``) so it
also stands alone, including the full-room path of ws_join that checks the
seated connections (GetConnection) and the stale-seat path that frees them.

A missing grant fails, naming function, action and resource. A grant no
recorded call used is printed (not a failure: logs grants are used by the
Lambda runtime, not by the handler).
"""

import copy
import json

import pytest
from moto import mock_aws

import apigw_events as ev
import iam_coverage
import iam_recorder
import otter_cloud
from helpers import create_room, join

TEMPLATE = iam_coverage.load_template()
COVERAGE = iam_coverage.Coverage(TEMPLATE)


def _scenarios():
    """Every route of both APIs once, and the join paths that only a full
    room takes. Each step asserts the outcome, so a path that silently stops
    running fails here rather than shrinking the coverage."""
    from test_signaling import _install_gone, _remove_gone  # the one GoneException stub (moto never sends 410)

    with mock_aws():
        cloud = otter_cloud.Cloud(prefix="otter-iam")
        gw = otter_cloud.Gateway()
        try:
            assert gw.http("GET", "/healthz")[0] == 200
            room = create_room(gw, cloud, maxPeers=2)
            bearer = {"authorization": f"Bearer {room['token']}"}
            assert gw.http("GET", f"/rooms/{room['roomId']}", bearer)[0] == 200
            assert gw.http("GET", f"/rooms/{room['roomId']}/ice-servers", bearer)[0] == 200

            # $connect wired without its authorizer verifies the token itself
            # (defence in depth, test_security.py): the secret and the room are read.
            import ws_connect
            cid = ev.new_connection_id()
            assert ws_connect.handler(ev.ws_connect_event(cid, room["token"], None, 1), None)["statusCode"] == 200

            a, b = join(gw, room), join(gw, room)
            pa, pb = gw.messages(a)[0]["peerId"], gw.messages(b)[0]["peerId"]
            gw.send(a, json.dumps({"action": "signal", "to": pb, "data": {"sdp": "x"}}))
            assert gw.messages(b) == [{"type": "signal", "from": pa, "data": {"sdp": "x"}}]
            gw.send(a, json.dumps({"action": "ping"}))
            gw.send(a, "not json")  # $default
            assert [m["type"] for m in gw.messages(a)] == ["pong", "error"]

            # Full room: ws_join checks every seated connection (GetConnection),
            # answers room-full and closes the socket (DeleteConnection).
            c = join(gw, room)
            assert gw.messages(c)[0]["code"] == "room-full"
            assert gw.is_closed(c)

            # Full room with a stale seat: freed (peer-left, seat and record
            # removed) and taken by the joiner.
            stub = _install_gone(b)
            try:
                d = join(gw, room)
                pd = gw.messages(d)[0]["peerId"]
            finally:
                _remove_gone(stub)
            assert gw.messages(a) == [{"type": "peer-left", "peerId": pb}, {"type": "peer-joined", "peerId": pd}]

            gw.close(d)  # $disconnect: peer-left to a
            assert gw.messages(a) == [{"type": "peer-left", "peerId": pd}]

            status, _, raw = gw.http("POST", "/keys/rotate", {"x-api-key": cloud.api_key})
            assert status == 200, raw
        finally:
            gw.shutdown()

        # The HTTP authorizers run only while the template still deploys them.
        if {"http_key_authorizer.handler", "http_token_authorizer.handler"} & set(COVERAGE.functions):
            cloud = otter_cloud.Cloud(prefix="otter-iam-auth")
            gw = otter_cloud.Gateway(http_authorizers=True)
            try:
                room = create_room(gw, cloud, maxPeers=2)
                assert gw.http("GET", f"/rooms/{room['roomId']}", {"authorization": f"Bearer {room['token']}"})[0] == 200
            finally:
                gw.shutdown()


class Recorded(list):
    def __repr__(self):  # a failure report shows this, not thousands of calls
        return f"<{len(self)} recorded calls>"


@pytest.fixture(scope="module")
def recorded():
    iam_recorder.SCENARIO.update(label="test_iam_coverage.py scenarios", fresh_containers=True)
    try:
        _scenarios()
    finally:
        iam_recorder.SCENARIO.update(label=None, fresh_containers=False)
    calls = Recorded(iam_recorder.CALLS)
    assert any(c["handler"] == "ws_join.handler" and c["operation"] == "GetConnection" for c in calls), \
        "the full-room path of ws_join (GetConnection) did not run"
    return calls


def _deployed(calls):
    return [c for c in calls if c["handler"] in COVERAGE.functions]


def test_recorder_sees_handler_calls_and_only_those(recorded):
    """The recorder is not blind: the scenarios' calls are there, attributed to
    the handler that made them, and the tests' own calls (table setup, reads
    for assertions, all from test code) are not."""
    by_handler = {}
    for c in recorded:
        by_handler.setdefault(c["handler"], set()).add(f"{c['service']}.{c['operation']}")
    assert {"dynamodb.PutItem"} <= by_handler["ws_connect.handler"]
    assert {"dynamodb.GetItem", "dynamodb.UpdateItem", "apigatewaymanagementapi.PostToConnection",
            "apigatewaymanagementapi.GetConnection", "apigatewaymanagementapi.DeleteConnection"} <= by_handler["ws_join.handler"]
    assert "secretsmanager.GetSecretValue" in by_handler["http_rooms.handler"]
    assert not any("CreateTable" in ops or "Scan" in ops or "CreateSecret" in ops for ops in by_handler.values())
    assert all(c["handler"].split(".")[0] in iam_recorder._handler_modules() for c in recorded)
    # the shared otter_*.py modules make most calls (otter_store, otter_ws) but are never
    # the handler a call is attributed to: the deployed function that called them is
    assert not any(m.startswith("otter_") for m in iam_recorder._handler_modules())
    assert not any(c["handler"].startswith("otter_") for c in recorded)


def test_every_recorded_call_maps_to_an_iam_action(recorded):
    unmapped = set()
    for c in _deployed(recorded):
        try:
            COVERAGE.deployed_requests(c)
        except iam_coverage.Unmapped as exc:
            unmapped.add(str(exc))
    assert unmapped == set()


def test_every_deployed_function_was_exercised(recorded):
    """A function no scenario invoked has unknown coverage: add a scenario."""
    invoked = set(iam_recorder.INVOCATIONS) | {c["handler"] for c in recorded}
    assert sorted(set(COVERAGE.functions) - invoked) == []


@pytest.mark.parametrize("handler", sorted(COVERAGE.functions))
def test_role_allows_every_call_the_handler_made(handler, recorded):
    function = COVERAGE.functions[handler]
    missing = iam_coverage.missing_grants(COVERAGE, handler, recorded)
    assert not missing, f"{function} ({handler}, role {COVERAGE.roles[function]}) is not allowed:\n" + "\n".join(
        f"  {action} on {arn}  (called in {test})" for (action, arn), test in sorted(missing.items()))


def _with_role_statements(handler, change):
    """A copy of the template whose role for ``handler`` has ``change(statements)``."""
    template = copy.deepcopy(TEMPLATE)
    role = COVERAGE.roles[COVERAGE.functions[handler]]
    policy = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
    policy["Statement"] = change(list(policy["Statement"]))
    return iam_coverage.Coverage(template)


def test_the_check_sees_a_grant_added_and_one_removed(recorded):
    """The check is not fixed on one answer: with ws_join's GetConnection
    granted no GET is missing, and without the statements
    that allow its GetItem on the connections table, that GetItem is missing."""
    get = {"Effect": "Allow", "Action": "execute-api:ManageConnections",
           "Resource": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                   "${%s}/%s/GET/@connections/*" % (COVERAGE.ws_apis[0], _ws_stage())}}
    granted = _with_role_statements("ws_join.handler", lambda st: st + [get])
    still = iam_coverage.missing_grants(granted, "ws_join.handler", recorded)
    assert not any("/GET/@connections/" in arn for _, arn in still), still
    assert set(still) <= set(iam_coverage.missing_grants(COVERAGE, "ws_join.handler", recorded))

    table = COVERAGE.stack.resolve({"Ref": _env_ref("ws_join.handler", "CONNECTIONS_TABLE")})
    concrete_table = next(c["env"]["CONNECTIONS_TABLE"] for c in recorded if c["handler"] == "ws_join.handler")
    revoked = _with_role_statements("ws_join.handler", lambda st: [
        s for s in st if not iam_coverage.cfn_model.statement_applies(
            {**s, "Resource": iam_coverage.cfn_model.as_list(COVERAGE.stack.resolve(s.get("Resource", "*")))},
            "dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{iam_coverage.ACCOUNT}:table/{table}")])
    gone = iam_coverage.missing_grants(revoked, "ws_join.handler", recorded)
    assert ("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{iam_coverage.ACCOUNT}:table/{concrete_table}") in gone


def _ws_stage():
    [stage] = [r["Properties"]["StageName"] for r in COVERAGE.stack.of_type("AWS::ApiGatewayV2::Stage").values()
               if r["Properties"]["ApiId"] == {"Ref": COVERAGE.ws_apis[0]}]
    return stage


def _env_ref(handler, name):
    variables = COVERAGE.stack.props(COVERAGE.functions[handler])["Environment"]["Variables"]
    return variables[name]["Ref"]


def test_unused_grants_are_reported(recorded, capsys):
    """Not a failure: prints the grants no recorded call used (least privilege
    review). Logs grants are used by the Lambda runtime, not the handler."""
    lines = []
    for handler, function in sorted(COVERAGE.functions.items()):
        calls = [c for c in recorded if c["handler"] == handler]
        used = set()
        shown = {k: (a, r) for k, a, r in COVERAGE.grants(function, {})}  # placeholders, not one test's values
        for c in calls:
            try:
                _, concrete, requests = COVERAGE.deployed_requests(c)
            except iam_coverage.Unmapped:
                continue
            for key, action, resource in COVERAGE.grants(function, concrete):
                if any(iam_coverage.cfn_model.action_matches(action, a) and iam_coverage.cfn_model.resource_matches(resource, r)
                       for a, r in requests):
                    used.add(key)
        for key, (action, resource) in sorted(shown.items()):
            if key not in used and not action.startswith("logs:"):
                lines.append(f"  {function}: {action} on {resource} ({key[0]})")
    with capsys.disabled():
        print("\nIAM grants no recorded call used:" + ("\n" + "\n".join(lines) if lines else " none"))


@pytest.mark.parametrize("pattern, arn, matches", [
    ("arn:aws:execute-api:us-east-1:123456789012:abc/v1/POST/@connections/*",
     "arn:aws:execute-api:us-east-1:123456789012:abc/v1/POST/@connections/L0SM9cOFvHcCIhw=", True),
    ("arn:aws:execute-api:us-east-1:123456789012:abc/v1/POST/@connections/*",
     "arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/@connections/L0SM9cOFvHcCIhw=", False),
    ("arn:aws:execute-api:us-east-1:123456789012:abc/*/@connections/*",
     "arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/@connections/x", True),  # * spans '/'
    ("arn:aws:dynamodb:us-east-1:123456789012:table/rooms",
     "arn:aws:dynamodb:us-east-1:123456789012:table/rooms/index/byRoom", False),  # an index is its own resource
    ("arn:aws:dynamodb:*:123456789012:table/Rooms", "arn:aws:dynamodb:us-east-1:123456789012:table/rooms", False),
    ("arn:aws:dynamodb:us-*:123456789012:table/rooms", "arn:aws:dynamodb:us-east-1:123456789012:table/rooms", True),
    ("arn:aws:s3:::b*", "arn:aws:s3:::bucket/key", True),
    ("*", "arn:aws:dynamodb:us-east-1:123456789012:table/rooms", True),
])
def test_resource_matching_follows_iam(pattern, arn, matches):
    """IAM compares the ARN's colon-separated parts one by one, case
    sensitively; * and ? match within a part (and across '/'), and a
    DynamoDB index is its own resource (TABLE/index/NAME):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"""
    assert iam_coverage.cfn_model.resource_matches(pattern, arn) is matches


def test_action_matching_is_case_insensitive_with_wildcards():
    m = iam_coverage.cfn_model.action_matches
    assert m("dynamodb:getitem", "dynamodb:GetItem") and m("dynamodb:Get*", "dynamodb:GetItem")
    assert not m("dynamodb:Get*", "dynamodb:PutItem") and not m("dynamodb:GetItem", "dynamodb:GetItems")
