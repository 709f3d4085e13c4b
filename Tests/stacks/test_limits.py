"""Templates/limits.json is the one copy of Otter's limits: the Lambda handlers
read it, and everything that states a limit again is held to it here: the
OpenAPI document both implementations serve, the stack's MaxPeers parameter
(`otter template`) and docs/DESIGN.md, the contract people read. OtterCore's
constants are checked by LimitsFileTests (Swift), the web SDK's by
Tests/webapp/limits.test.mjs."""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))

from cfn_model import render  # noqa: E402

LIMITS = json.loads((ROOT / "Templates" / "limits.json").read_text())
ROOM = LIMITS["room"]
OPENAPI = json.loads((ROOT / "Sources" / "OtterServer" / "Resources" / "openapi.json").read_text())
DESIGN = (ROOT / "docs" / "DESIGN.md").read_text()


def test_openapi_create_room_bounds_are_the_limits():
    props = OPENAPI["components"]["schemas"]["CreateRoomRequest"]["properties"]
    assert props["maxPeers"] == {"type": "integer", "minimum": ROOM["minPeers"], "maximum": ROOM["maxPeers"],
                                 "default": ROOM["defaultMaxPeers"]}
    assert props["ttlSeconds"] == {"type": "integer", "minimum": ROOM["minTTLSeconds"], "maximum": ROOM["maxTTLSeconds"],
                                   "default": ROOM["defaultTTLSeconds"]}


def test_stack_max_peers_parameter_is_the_limits():
    """`otter template --max-peers` sets the parameter's default; CloudFormation
    refuses a value outside MinValue..MaxValue."""
    p = render([])["Parameters"]["MaxPeers"]
    assert (p["MinValue"], p["MaxValue"], p["Default"]) == (ROOM["minPeers"], ROOM["maxPeers"], ROOM["defaultMaxPeers"])


def test_design_states_the_limits():
    ints = lambda n: f"{n:,}"  # noqa: E731
    expected = [
        f"`maxPeers` not an integer {ROOM['minPeers']}..{ROOM['maxPeers']}, `ttlSeconds` not {ROOM['minTTLSeconds']}..{ROOM['maxTTLSeconds']}",
        f"body over {LIMITS['maxBodyBytes'] // 1024} KiB",
        f"Frames over {ints(LIMITS['maxFrameBytes'])} bytes are refused with `too-large`",
        f"`exp` (default {ROOM['defaultTTLSeconds'] // 3600} h)",
        f"short lifetime (default {LIMITS['iceTTLSeconds'] // 3600} h)",
        f"mesh up to {ROOM['maxPeers']}",
    ]
    flat = re.sub(r"\s+", " ", DESIGN)
    missing = [e for e in expected if e not in flat]
    assert not missing, f"docs/DESIGN.md does not say: {missing}"


def test_stage_throttling_is_the_limits():
    """The cloud stages' throttling (the cloud's rate limits) is limits.json's stageThrottling."""
    resources = render([])["Resources"]
    stages = {r["Properties"]["ApiId"]["Ref"]: r["Properties"]["DefaultRouteSettings"]
              for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"}
    for api, name in (("SignalApi", "signal"), ("HttpApi", "rest")):
        want = LIMITS["stageThrottling"][name]
        assert (stages[api]["ThrottlingRateLimit"], stages[api]["ThrottlingBurstLimit"]) == (want["rateLimit"], want["burstLimit"]), api
