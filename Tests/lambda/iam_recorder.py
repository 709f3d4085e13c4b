"""Records every AWS call the Lambda handlers make while the tests run, for
test_iam_coverage.py (IAM coverage from real calls).

Installed once by conftest.py, for the whole pytest session: two botocore
event hooks added to botocore's built-in handlers, so every session created
afterwards has them (moto's mock_aws gives each test a new default session;
the handlers' clients come from it):

- ``before-parameter-build``: the operation and its parameters, attributed to
  the handler being invoked: the outermost frame on the stack that belongs to
  a handler module of Templates/lambda (``ws_join.handler``). Calls made by
  the tests themselves (setup, assertions) have no such frame and are not
  recorded. This event comes before ``before-call``, where test stubs (the
  GoneException stub) answer calls without sending them: those calls are
  recorded too, as the handler did make them.
- ``before-endpoint-resolution``: the endpoint the client uses (the
  management API's https://API.execute-api.REGION.amazonaws.com/STAGE) and
  its region.

Invocations of each module's ``handler`` are counted too, so a handler that
made no AWS call still shows as exercised.
"""

import functools
import importlib
import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "Templates" / "lambda"

CALLS = []  # dicts: handler, service, operation, params, endpoint, region, env, test
INVOCATIONS = {}  # "module.function" -> count
_lock = threading.Lock()
_installed = []
_modules = {}  # code file name -> module name (handler modules only)
_last_env = [{}]
_thread = threading.local()
# Set by test_iam_coverage.py's own scenarios: the label its calls are
# reported under, and "fresh containers": otter_store's per-container caches
# (clients, secrets) are dropped whenever another handler is invoked, as each
# function runs in its own Lambda containers. Otherwise a secret one handler
# read would hide the same read by the next handler from the recorder.
SCENARIO = {"label": None, "fresh_containers": False}


def _handler_modules():
    # otter_*.py are the shared modules (otter_common, otter_store, ...), not functions:
    # a call they make is attributed to the handler module that called them.
    return sorted(p.stem for p in LAMBDA_DIR.glob("*.py") if not p.stem.startswith("otter_"))


def _invoking_handler():
    frame = sys._getframe(2)
    found = None
    while frame is not None:
        module = _modules.get(frame.f_code.co_filename)
        if module is not None:
            found = f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return found


def _env_snapshot():
    env = dict(os.environ)
    env.pop("PYTEST_CURRENT_TEST", None)
    if env == _last_env[0]:
        return _last_env[0]
    _last_env[0] = env
    return env


def _before_parameter_build(params, model, context, **kwargs):
    handler = _invoking_handler()
    if handler is None:
        return
    record = {"handler": handler, "service": model.service_model.service_name, "operation": model.name,
              "params": dict(params), "endpoint": None, "region": None, "env": _env_snapshot(),
              "test": SCENARIO["label"] or os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]}
    context["otter_iam_record"] = record
    with _lock:
        CALLS.append(record)


def _before_endpoint_resolution(builtins, context, **kwargs):
    record = context.get("otter_iam_record")
    if record is not None:
        record["endpoint"] = builtins.get("SDK::Endpoint")
        record["region"] = builtins.get("AWS::Region")


def _counting(name, fn):
    @functools.wraps(fn)
    def handler(event, context):
        with _lock:
            INVOCATIONS[name] = INVOCATIONS.get(name, 0) + 1
        if SCENARIO["fresh_containers"] and getattr(_thread, "last", None) != name:
            sys.modules["otter_store"].reset_caches()
        _thread.last = name
        return fn(event, context)

    handler.otter_iam_counted = True
    return handler


def install():
    """Idempotent. Must run before the tests create boto3 sessions."""
    if _installed:
        return
    import botocore.handlers

    if str(LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(LAMBDA_DIR))
    for name in _handler_modules():
        module = importlib.import_module(name)
        _modules[module.__file__] = name
        _modules[os.path.realpath(module.__file__)] = name
        fn = getattr(module, "handler", None)
        if callable(fn) and not getattr(fn, "otter_iam_counted", False):
            module.handler = _counting(f"{name}.handler", fn)
    hooks = [("before-parameter-build", _before_parameter_build),
             ("before-endpoint-resolution", _before_endpoint_resolution)]
    botocore.handlers.BUILTIN_HANDLERS.extend(hooks)
    import boto3
    if boto3.DEFAULT_SESSION is not None:  # created before install: give it the hooks too
        for event, hook in hooks:
            boto3.DEFAULT_SESSION.events.register(event, hook)
    _installed.append(True)


def run_coverage_last(items):
    """pytest_collection_modifyitems: test_iam_coverage.py runs after every
    other test of Tests/lambda in this session, so it sees their calls."""
    coverage = [i for i in items if i.path.name == "test_iam_coverage.py"]
    if not coverage:
        return
    rest = [i for i in items if i.path.name != "test_iam_coverage.py"]
    lambda_dir = Path(__file__).resolve().parent
    last = max((n for n, i in enumerate(rest) if lambda_dir in i.path.parents), default=len(rest) - 1)
    items[:] = rest[:last + 1] + coverage + rest[last + 1:]
