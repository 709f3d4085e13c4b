"""Denied camera and microphone: a clear screen, and a way in without them."""
from urllib.parse import urlsplit

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import by_testid, error_text, open_lobby, wait, wait_connected, join


def test_denied_camera_shows_its_screen_and_can_join_without(otter, browsers, output_dir):
    room = otter.create_room(max_peers=2)
    # without the flag that auto-accepts the prompt, so the denial below holds
    d = browsers.new(drop_flags=("--use-fake-ui-for-media-stream",))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(room["url"]))
    for name in ("camera", "microphone"):
        d.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": name}, "setting": "denied", "origin": origin})
    open_lobby(d, room["url"])
    wait(d, lambda dd: dd.execute_script("return document.body.dataset.screen") == "error", 20)
    err = by_testid(d, "error")
    assert err.get_attribute("data-code") == "media-denied", error_text(d)
    assert "blocked" in err.text.lower()
    d.save_screenshot(str(output_dir / "media-denied.png"))
    # the way out: join without camera and microphone, and still see the other person
    [btn] = [b for b in err.find_elements("css selector", "button") if "without" in b.text.lower()]
    btn.click()
    wait(d, lambda dd: dd.execute_script("return document.body.dataset.screen") == "call", 30, error_text(d))
    other = browsers.new()
    join(other, room["url"], "Bob")
    [bob] = wait_connected(d, 1, timeout=40)
    wait(d, lambda dd: dd.execute_script(
        f"const v=document.querySelector('[data-testid=\"video-{bob}\"]'); return v && v.videoWidth > 0"), 30)
