"""Accessibility: axe-core finds no serious or critical violation on the
landing page, the lobby, the call and every error screen the app shows; every
button has a name; joining and leaving work from the keyboard alone."""
import base64
import json
import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from a11y import focused_id, press, screen_problems, tab_to
from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import REPO, OtterServer, by_testid, error_text, join, open_lobby, wait, wait_connected


def screen(d):
    return d.execute_script("return document.body.dataset.screen")


def code(d):
    return by_testid(d, "error").get_attribute("data-code") if screen(d) == "error" else screen(d)


def preview_on(d):
    wait(d, lambda dd: dd.execute_script("const v=document.getElementById('preview'); return v && v.videoWidth > 0"), 60,
         "camera preview never showed")


def test_keyboard_only_join_and_leave_with_no_axe_violations(otter, browsers, output_dir):
    problems = {}
    room = otter.create_room(max_peers=2)
    a, b = browsers.new(), browsers.new()

    a.get(otter.info["web_app"])
    wait(a, lambda d: screen(d) == "landing", 30)
    problems["landing"] = screen_problems(a)

    open_lobby(a, room["url"])
    assert screen(a) == "lobby", error_text(a)
    preview_on(a)
    wait(a, lambda d: d.execute_script("return document.body.dataset.seat") == "free", 20)
    problems["lobby"] = screen_problems(a)

    # join with the keyboard alone: TAB to the name, type it, TAB to Join, ENTER
    tab_to(a, "name")
    press(a, "Kay")
    tab_to(a, "join")
    press(a, Keys.ENTER)
    wait(a, lambda d: screen(d) in ("call", "error"), 60)
    assert screen(a) == "call", error_text(a)
    assert a.find_element(By.CSS_SELECTOR, "#self-tile .tile-label").text == "Kay (you)"
    assert focused_id(a) == "mic", "the call does not put the focus on its controls"

    join(b, room["url"], "Bob")
    wait_connected(a, 1)
    wait(a, lambda d: by_testid(d, "safety-code").text.strip() != "", 10)
    problems["call"] = screen_problems(a)

    # leave with the keyboard alone: TAB to Leave, SPACE
    tab_to(a, "leave")
    press(a, Keys.SPACE)
    wait(a, lambda d: screen(d) == "error", 10, "SPACE on Leave did not leave")
    assert code(a) == "left"
    problems["left"] = screen_problems(a)
    assert not {k: v for k, v in problems.items() if v}, json.dumps(problems, indent=1)


def fake_token(exp):
    part = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': 'r', 'exp': exp})}.c2ln"


def test_error_screens_have_no_axe_violations(otter, browsers, output_dir):
    problems = {}
    room = otter.create_room(max_peers=2)
    d = browsers.new()
    base = otter.info["web_app"].rstrip("/")

    def visit(url, want):
        d.get("about:blank")
        d.get(url)
        wait(d, lambda dd: screen(dd) in ("error", "lobby", "landing"), 60)
        if want != "lobby":
            wait(d, lambda dd: screen(dd) == "error", 30, f"no error screen for {want}")
        assert code(d) == want, f"{url}: wanted {want}, got {code(d)} {error_text(d)}"
        problems[want] = screen_problems(d)
        d.save_screenshot(str(output_dir / f"a11y-{want}.png"))

    head, sig = room["url"].rsplit(".", 1)
    visit(head + "." + ("A" if sig[0] != "A" else "B") + sig[1:], "invalid-link")
    visit(f"{base}/?room=r#token={fake_token(int(time.time()) - 60)}", "token-expired")

    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/config.js"]})
    visit(room["url"], "bad-config")
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/rooms/*"]})
    visit(room["url"], "network")
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})

    # a browser that refuses camera and microphone, and one that has none
    d = browsers.new(drop_flags=("--use-fake-ui-for-media-stream",), extra_flags=("--deny-permission-prompts",))
    visit(room["url"], "media-denied")

    no_devices = browsers.new(drop_flags=("--use-fake-device-for-media-stream",))
    d = no_devices
    visit(room["url"], "media-not-found")
    assert not {k: v for k, v in problems.items() if v}, json.dumps(problems, indent=1)


@pytest.fixture
def own_otter():
    binary = os.environ.get("OTTER_BIN", str(REPO / ".build" / "debug" / "otter"))
    s = OtterServer(binary).start()
    yield s
    s.stop()


def test_lost_connection_screen_has_no_axe_violations(own_otter, browsers):
    room = own_otter.create_room(max_peers=2)
    d = browsers.new()
    join(d, room["url"], "Alice")
    assert screen(d) == "call", error_text(d)
    own_otter.stop(keep_data=True)
    wait(d, lambda dd: screen(dd) == "error", 60, "no lost-connection screen")
    assert code(d) == "lost"
    assert screen_problems(d) == []
