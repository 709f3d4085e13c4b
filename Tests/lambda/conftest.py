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


@pytest.fixture
def cloud():
    with mock_aws():
        yield otter_cloud.Cloud()


@pytest.fixture
def gw(cloud):
    g = otter_cloud.Gateway()
    yield g
    g.shutdown()
