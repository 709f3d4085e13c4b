"""The tables the tests create come from the template `otter template` prints
(OTTER_TEMPLATE, or made with the built binary). These tests check that the
definitions fit what the handlers need and that its functions name these modules."""

import importlib
import json
import os

import pytest

import otter_cloud


def test_definitions_fit_the_handlers():
    path, source = otter_cloud.template_source()
    print(f"table definitions from {source}: {path}")
    defs = otter_cloud.table_definitions()
    conns = defs["CONNECTIONS_TABLE"]
    assert [k["AttributeName"] for k in conns["KeySchema"]] == ["connectionId"]
    by_room = [g for g in conns.get("GlobalSecondaryIndexes", []) if g["IndexName"] == "byRoom"]
    assert by_room and by_room[0]["KeySchema"][0]["AttributeName"] == "roomId"
    # $connect writes expiresAt (the token's exp) for rows $disconnect never removed
    assert conns["TimeToLiveSpecification"]["AttributeName"] == "expiresAt"
    rooms = defs["ROOMS_TABLE"]
    assert [k["AttributeName"] for k in rooms["KeySchema"]] == ["roomId"]
    assert rooms["TimeToLiveSpecification"]["AttributeName"] == "expiresAt"
    assert [k["AttributeName"] for k in defs["CONFIG_TABLE"]["KeySchema"]] == ["id"]
    for d in defs.values():
        types = {a["AttributeName"]: a["AttributeType"] for a in d["AttributeDefinitions"]}
        assert all(t == "S" for t in types.values())


def test_byroom_index_answers_queries(cloud, gw):
    """The index the template defines is queryable the way the handlers' data is written."""
    from helpers import create_room, join
    room = create_room(gw, cloud)
    a = join(gw, room)
    out = cloud.ddb.query(TableName=cloud.tables["CONNECTIONS_TABLE"], IndexName="byRoom",
                          KeyConditionExpression="roomId = :r", ExpressionAttributeValues={":r": {"S": room["roomId"]}})
    assert [i["connectionId"]["S"] for i in out["Items"]] == [a]


def test_template_functions_use_these_modules():
    template = json.loads(otter_cloud.template_source()[0].read_text())
    handlers = [r["Properties"]["Handler"] for r in template["Resources"].values()
                if r.get("Type") == "AWS::Lambda::Function" and r["Properties"].get("Runtime", "").startswith("python")]
    assert handlers
    for h in handlers:
        module, _, fn = h.partition(".")
        assert callable(getattr(importlib.import_module(module), fn)), h
    envs = [r["Properties"].get("Environment", {}).get("Variables", {}) for r in template["Resources"].values()
            if r.get("Type") == "AWS::Lambda::Function"]
    known = {"CONNECTIONS_TABLE", "ROOMS_TABLE", "CONFIG_TABLE", "SIGNING_SECRET_ARN", "TURN_SECRET_ARN",
             "WS_ENDPOINT", "WEB_APP_URL", "TURN_URLS", "MAX_PEERS_DEFAULT"}
    for e in envs:
        assert set(e) <= known, set(e) - known


def test_extracts_tables_from_a_full_template(tmp_path, monkeypatch):
    """What `otter template` emits: tables among other resources, names and tags
    as intrinsics, extra properties; OTTER_TEMPLATE selects it."""
    from moto import mock_aws
    import boto3
    stack = json.loads(otter_cloud.template_source()[0].read_text())["Resources"]
    fallback = {k: v for k, v in stack.items() if v["Type"] == "AWS::DynamoDB::Table"}
    resources = {"SignalApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "x"}}}
    for logical, res in fallback.items():
        res = json.loads(json.dumps(res))
        res["Properties"]["TableName"] = {"Fn::Sub": "${AWS::StackName}-" + logical}
        res["Properties"]["Tags"] = [{"Key": "otter:stack", "Value": {"Ref": "AWS::StackName"}}]
        res["Properties"]["SSESpecification"] = {"SSEEnabled": True}
        resources["Otter" + logical] = res
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": resources}))
    monkeypatch.setenv("OTTER_TEMPLATE", str(path))
    assert otter_cloud.template_source() == (path, "OTTER_TEMPLATE")
    defs = otter_cloud.table_definitions()
    assert set(defs) == {"CONNECTIONS_TABLE", "ROOMS_TABLE", "CONFIG_TABLE"}
    with mock_aws():
        names = otter_cloud.create_tables(boto3.client("dynamodb", region_name="us-east-1"), defs, "tpl")
        desc = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=names["CONNECTIONS_TABLE"])
        assert desc["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "byRoom"


def test_template_missing_a_table_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    stack = json.loads(otter_cloud.template_source()[0].read_text())["Resources"]
    rooms = next(r for r in stack.values() if r["Type"] == "AWS::DynamoDB::Table"
                 and r["Properties"]["KeySchema"][0]["AttributeName"] == "roomId")
    path.write_text(json.dumps({"Resources": {"Rooms": rooms}}))
    with pytest.raises(AssertionError, match="no table"):
        otter_cloud.table_definitions(path)
