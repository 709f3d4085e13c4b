"""The template's HTTP API against openapi.json, the one REST route list:
every operation openapi.json marks `x-otter-lambda` has exactly one route key
and one Lambda permission on the HttpApi, integrated with the function whose
handler is that module, and the HttpApi has nothing else; CORS allows exactly
the methods those operations use."""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))

from cfn_model import render  # noqa: E402

OPENAPI = ROOT / "Sources" / "OtterServer" / "Resources" / "openapi.json"


def cloud_operations():
    doc = json.loads(OPENAPI.read_text())
    return {(m.upper(), path): op["x-otter-lambda"]
            for path, ops in doc["paths"].items() for m, op in ops.items() if "x-otter-lambda" in op}


def of_type(template, kind):
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_http_api_routes_are_openapi_cloud_operations():
    t = render([])
    ops = cloud_operations()
    routes = [r["Properties"] for r in of_type(t, "AWS::ApiGatewayV2::Route").values()
              if r["Properties"]["ApiId"] == {"Ref": "HttpApi"}]
    keys = [r["RouteKey"] for r in routes]
    assert sorted(keys) == sorted(f"{m} {p}" for m, p in ops), "HttpApi route keys differ from openapi.json"
    integrations = of_type(t, "AWS::ApiGatewayV2::Integration")
    functions = of_type(t, "AWS::Lambda::Function")
    for r in routes:
        method, path = r["RouteKey"].split(" ", 1)
        target = re.fullmatch(r"integrations/\$\{(\w+)\}", r["Target"]["Fn::Sub"]).group(1)
        uri = integrations[target]["Properties"]["IntegrationUri"]
        fn = uri["Fn::GetAtt"][0]
        handler = functions[fn]["Properties"]["Handler"]
        assert handler == f"{ops[(method, path)]}.handler", f"{r['RouteKey']} → {handler}"


def test_http_api_permissions_are_openapi_cloud_operations():
    t = render([])
    expected = sorted(f"$default/{m}/" + "/".join("*" if s.startswith("{") else s for s in p.split("/") if s)
                      for m, p in cloud_operations())
    found = []
    for perm in of_type(t, "AWS::Lambda::Permission").values():
        arn = json.dumps(perm["Properties"]["SourceArn"])
        if "${HttpApi}" in arn:
            found.append(re.search(r'\$default/[A-Z]+/[^"]*', arn).group(0))
    assert sorted(found) == expected


def test_cors_methods_are_openapi_cloud_methods():
    t = render([])
    cors = t["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    # HTTP APIs answer preflight OPTIONS themselves when CORS is configured, so OPTIONS need not be listed.
    assert sorted(cors["AllowMethods"]) == sorted({m for m, _ in cloud_operations()})
