"""On a phone (390×844 CSS pixels) the call fits the screen: no scrolling, the
top bar, the tiles and the controls all inside the viewport."""
import time

from selenium.webdriver.common.by import By

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import error_text, join, open_lobby, wait, wait_connected

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}

# The page's scroll size and every listed element that reaches outside the viewport.
FIT_JS = """
const se = document.scrollingElement, vw = window.innerWidth, vh = window.innerHeight;
const out = {vw, vh, scrollWidth: se.scrollWidth, scrollHeight: se.scrollHeight, outside: [], seen: {}};
for (const sel of arguments[0]) {
  out.seen[sel] = 0;
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not displayed
    out.seen[sel]++;
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5)
      out.outside.push(`${sel}: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)}`);
  }
}
return out;
"""


def phone(browsers):
    d = browsers.new()
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    return d


def assert_fits(d, selectors):
    f = d.execute_script(FIT_JS, selectors)
    assert (f["vw"], f["vh"]) == (390, 844), f
    assert f["scrollWidth"] <= f["vw"] and f["scrollHeight"] <= f["vh"], f"the page scrolls: {f}"
    assert not f["outside"], f"outside the screen: {f['outside']}"
    assert all(f["seen"].values()), f"not shown: {f['seen']}"
    return f


def test_call_fits_a_phone_screen(otter, browsers, output_dir):
    room = otter.create_room(max_peers=2)
    a, b = phone(browsers), browsers.new()
    open_lobby(a, room["url"])
    wait(a, lambda d: d.execute_script("const v=document.getElementById('preview'); return v && v.videoWidth > 0"), 30)
    f = a.execute_script(FIT_JS, [".topbar", ".preview-frame", "#join"])
    assert f["scrollWidth"] <= f["vw"], f"the lobby scrolls sideways: {f}"
    a.save_screenshot(str(output_dir / "phone-lobby.png"))

    join(a, room["url"], "Alice")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    join(b, room["url"], "Bob")
    [b_id] = wait_connected(a, 1)
    wait(a, lambda d: d.execute_script(
        f"const v=document.querySelector('[data-testid=\"video-{b_id}\"]'); return v && v.videoWidth > 0"), 20)
    wait(a, lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="safety-code"]').text.strip() != "", 10)
    time.sleep(1)
    call = [".topbar", ".brand", "#safety", ".tile", f'.tile[data-peer="{b_id}"]', "#self-tile", ".controls", "#mic", "#leave"]
    assert_fits(a, call)
    # the remote tile is the big one: it takes most of the screen
    r = a.find_element(By.CSS_SELECTOR, f'.tile[data-peer="{b_id}"]').rect
    assert r["width"] >= 350 and r["height"] >= 500, r
    a.save_screenshot(str(output_dir / "phone-call.png"))

    # chat and files open over the video, inside the screen too
    a.find_element(By.ID, "toggle-side").click()
    assert a.find_element(By.ID, "side").is_displayed()
    assert_fits(a, call + ["#side", "#chat-input", "#chat-send"])
    a.save_screenshot(str(output_dir / "phone-call-chat.png"))
