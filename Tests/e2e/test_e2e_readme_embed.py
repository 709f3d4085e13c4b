"""The README's "Embed Otter in your app" example works as written: its two
files, put next to the app as it says, join a call with someone in the app."""
import os
import re
import shutil
from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException

import otter_e2e
from otter_e2e import browsers, output_dir  # noqa: F401  (fixtures)
from otter_e2e import REPO, OtterServer, console_tail, error_text, join, wait, wait_connected


def readme_example():
    text = (REPO / "README.md").read_text()
    section = text.split("## Embed Otter in your app", 1)[1].split("\n## ", 1)[0]
    files = {}
    for body in re.findall(r"```(?:html|js)\n(.*?)```", section, re.S):
        first = body.splitlines()[0]
        name = re.search(r"Templates/webapp/(\S+?)(?: -->)?$", first).group(1)
        files[name] = body
    return files


@pytest.fixture
def otter_with_example(tmp_path, monkeypatch):
    files = readme_example()
    assert set(files) == {"mini.html", "mini.js"}, files.keys()
    web = tmp_path / "webapp"
    shutil.copytree(otter_e2e.WEBAPP, web)
    for name, body in files.items():
        (web / name).write_text(body)
    monkeypatch.setattr(otter_e2e, "WEBAPP", web)
    binary = os.environ.get("OTTER_BIN", str(REPO / ".build" / "debug" / "otter"))
    s = OtterServer(binary).start()
    yield s
    s.stop()


def test_readme_embed_example_joins_a_call(otter_with_example, browsers, output_dir):
    room = otter_with_example.create_room(max_peers=2)
    app, mini = browsers.new(), browsers.new()
    join(app, room["url"], "Alice")
    assert app.execute_script("return document.body.dataset.screen") == "call", error_text(app)
    mini.get(room["url"].replace("/?room=", "/mini.html?room="))
    try:
        wait(mini, lambda d: d.execute_script(
            "const v = document.querySelector('#videos video'); return !!v && v.videoWidth > 0"), 60)
    except TimeoutException:
        # the console as it is when the wait gave up, not before it began
        raise AssertionError(f"the example page shows no video: {console_tail(mini, 5)}") from None
    [mini_id] = wait_connected(app, 1)
    wait(app, lambda d: "Ada" in d.find_element("css selector", f'.tile[data-peer="{mini_id}"]').text, 15)
    mini.save_screenshot(str(output_dir / "readme-embed.png"))
