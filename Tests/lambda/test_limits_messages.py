"""The handlers word their errors with limits.json's sentences (the ones
LimitsFileTests holds `otter up` to): each sentence is sent by some handler, and
every call names exactly the values its sentence shows, so none raises
KeyError instead of answering."""

import ast
import json
import re
from pathlib import Path

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "Templates" / "lambda"
MESSAGES = json.loads((LAMBDA_DIR.parent / "limits.json").read_text())["messages"]


def message_calls():
    """(module, key, keyword names) of every ``c.message(...)`` / ``common.message(...)``."""
    for path in sorted(LAMBDA_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "message"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("c", "common")):
                assert node.args and isinstance(node.args[0], ast.Constant), f"{path.name}: message() needs a literal key"
                yield path.stem, node.args[0].value, {k.arg for k in node.keywords}


def test_every_sentence_is_sent_and_every_call_fills_its_sentence():
    calls = list(message_calls())
    assert calls
    for module, key, names in calls:
        assert key in MESSAGES, f"{module}: no message {key!r} in limits.json"
        assert names == set(re.findall(r"\{(\w+)\}", MESSAGES[key])), (module, key, names)
    # In the cloud API Gateway's stage throttling answers a client over its rate itself
    # (limits.json "stageThrottling"), so only `otter up` sends rate-limited.
    assert {key for _, key, _ in calls} == set(MESSAGES) - {"rate-limited"}, "limits.json has sentences no handler sends"
