"""`otter deploy` zips Templates/lambda as it is, plus Templates/limits.json
(HandlerPackage): every handler must import from that zip with nothing but the
standard library and boto3, and expose handler(event, context)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "Templates" / "lambda"
LIMITS = LAMBDA_DIR.parent / "limits.json"
HANDLERS = ["ws_authorizer", "ws_connect", "ws_disconnect", "ws_join", "ws_signal", "ws_ping", "ws_default",
            "http_rooms", "http_ice", "http_keys", "http_health"]
# the shared modules every zip holds next to the handlers
SHARED = sorted(p.stem for p in LAMBDA_DIR.glob("otter_*.py"))
ALLOWED_TOP_LEVEL = set(sys.stdlib_module_names) | {"boto3", "botocore"} | set(SHARED)
# what boto3 itself loads (the runtime ships these with it); _distutils_hack is setuptools' site hook
BOTO3_DEPS = {"s3transfer", "jmespath", "dateutil", "six", "urllib3", "certifi"}


def test_every_handler_imports_from_the_zip(tmp_path):
    zpath = tmp_path / "handlers.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in sorted(LAMBDA_DIR.iterdir()):
            if f.is_file() and f.suffix != ".pyc":
                z.write(f, f.name)
        z.write(LIMITS, LIMITS.name)
    code = (
        "import json, sys, importlib\n"
        f"sys.path.insert(0, {str(zpath)!r})\n"
        "import otter_common\n"
        # the limits come from the zip's copy, not from the source tree
        f"assert otter_common.LIMITS == json.loads(open({str(LIMITS)!r}).read())\n"
        "assert otter_common.__file__.startswith(sys.path[0])\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert out.returncode == 0, out.stdout + out.stderr
    code = (
        "import sys, importlib\n"
        f"sys.path.insert(0, {str(zpath)!r})\n"
        f"names = {HANDLERS!r}\n"
        "for n in names:\n"
        "    m = importlib.import_module(n)\n"
        "    assert m.__file__.startswith(sys.path[0]), m.__file__\n"
        "    assert callable(m.handler), n\n"
        f"allowed = {sorted(ALLOWED_TOP_LEVEL)!r}\n"
        f"extra = {sorted(BOTO3_DEPS | set(HANDLERS) | {'__main__', '__mp_main__', '_distutils_hack'})!r}\n"
        "bad = sorted({k.split('.')[0] for k in sys.modules} - set(allowed) - set(extra))\n"
        "print('non-stdlib modules loaded:', bad)\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_source_is_stdlib_and_boto3_only(name):
    import ast
    tree = ast.parse((LAMBDA_DIR / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mods = [node.module]
        else:
            continue
        for m in mods:
            assert m.split(".")[0] in ALLOWED_TOP_LEVEL, (name, m)


def test_shared_modules_are_the_split_ones():
    assert SHARED == ["otter_common", "otter_http", "otter_store", "otter_tokens", "otter_ws"]


@pytest.mark.parametrize("name", HANDLERS + SHARED)
def test_no_module_reaches_into_another_modules_private_names(name):
    """A helper one module uses from another is public (``otter_tokens.is_int``),
    so each module's ``_name``s can change without breaking the others."""
    import ast
    tree = ast.parse((LAMBDA_DIR / f"{name}.py").read_text())
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname or a.name: a.name for a in node.names if a.name.startswith("otter_")})
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("otter_"):
            bad = [a.name for a in node.names if a.name.startswith("_")]
            assert not bad, (name, node.module, bad)
    bad = sorted({f"{aliases[n.value.id]}.{n.attr}" for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                  and isinstance(n.value, ast.Name) and n.value.id in aliases and n.attr.startswith("_")})
    assert not bad, (name, bad)
