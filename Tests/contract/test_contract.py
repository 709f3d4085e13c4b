"""The contract suite: every scenario in scenarios/*.json against the target
chosen by OTTER_CONTRACT_TARGET (lambda | local; default lambda)."""

import json
from pathlib import Path

import pytest

from adapter import target_from_env
from runner import Runner, ScenarioSkipped

SCENARIOS = sorted((Path(__file__).resolve().parent / "scenarios").glob("*.json"))


def _cases():
    for path in SCENARIOS:
        doc = json.loads(path.read_text())
        for sc in doc["scenarios"]:
            yield pytest.param(sc, id=f"{path.stem}:{sc['name']}")


@pytest.fixture(scope="session")
def target():
    return target_from_env()


def test_scenarios_exist():
    assert len(SCENARIOS) >= 8


@pytest.mark.parametrize("scenario", list(_cases()))
def test_scenario(target, scenario):
    target.start()
    runner = Runner(target, scenario)
    try:
        runner.run()
    except ScenarioSkipped as skip:
        pytest.skip(str(skip))
    finally:
        runner.close_all()
        target.stop()
