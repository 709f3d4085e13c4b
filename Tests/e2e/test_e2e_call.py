"""Two people in a call: video and audio both ways, chat, mute, safety code, files."""
import hashlib
import os
import time

from selenium.webdriver.common.by import By

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import by_testid, join, open_lobby, remote_peer_ids, stats, wait, wait_connected, wait_media_flowing, error_text


def two_in_a_call(otter, browsers, output_dir=None):
    room = otter.create_room(max_peers=2)
    a, b = browsers.new(), browsers.new()
    open_lobby(a, room["url"])
    if output_dir:
        wait(a, lambda d: d.execute_script("const v=document.getElementById('preview'); return v && v.videoWidth > 0"), 15)
        time.sleep(0.5)
        a.save_screenshot(str(output_dir / "lobby.png"))
    join(a, room["url"], "Alice")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    join(b, room["url"], "Bob")
    assert b.execute_script("return document.body.dataset.screen") == "call", error_text(b)
    [b_id] = wait_connected(a, 1)
    [a_id] = wait_connected(b, 1)
    return room, a, b, a_id, b_id


def test_two_browsers_see_and_hear_each_other(otter, browsers, output_dir):
    room, a, b, a_id, b_id = two_in_a_call(otter, browsers, output_dir)
    # each side has a tile with the other's video, under the other's peerId
    assert remote_peer_ids(a) == [b_id]
    assert remote_peer_ids(b) == [a_id]
    wait_media_flowing(a, b_id)
    wait_media_flowing(b, a_id)
    # a direct call: host candidates on both ends, on loopback (no relay in the path)
    for d, pid in ((a, b_id), (b, a_id)):
        pair = stats(d, pid)["pair"]
        assert pair and (pair["local"], pair["remote"]) == ("host", "host"), pair
        assert {pair["localAddress"], pair["remoteAddress"]} <= {"127.0.0.1", "::1"}, pair
    # the video element itself shows frames, with the other's name on the tile
    for d, pid, name in ((a, b_id, "Bob"), (b, a_id, "Alice")):
        wait(d, lambda dd: dd.execute_script(
            f"const v=document.querySelector('[data-testid=\"video-{pid}\"]'); return v.videoWidth > 0 && !v.paused"), 10)
        wait(d, lambda dd: name in dd.find_element(By.CSS_SELECTOR, f'.tile[data-peer="{pid}"]').text, 10, f"{name} not on tile")
    # the safety code is shown on both sides and is the same
    wait(a, lambda d: by_testid(d, "safety-code").text.strip() != "", 10)
    wait(b, lambda d: by_testid(d, "safety-code").text.strip() != "", 10)
    ca, cb = by_testid(a, "safety-code").text.strip(), by_testid(b, "safety-code").text.strip()
    assert ca == cb and len(ca.replace(" ", "")) == 16, (ca, cb)
    time.sleep(1)
    a.save_screenshot(str(output_dir / "call.png"))


def test_chat_both_ways(otter, browsers):
    _, a, b, _, _ = two_in_a_call(otter, browsers)
    by_testid(a, "chat-input").send_keys("Hello from Alice ✓")
    by_testid(a, "chat-send").click()
    wait(b, lambda d: "Hello from Alice ✓" in by_testid(d, "chat-log").text, 10, "Bob never got Alice's message")
    assert "Alice" in by_testid(b, "chat-log").text
    by_testid(b, "chat-input").send_keys("Hi Alice, Bob here\n")  # Enter sends
    wait(a, lambda d: "Hi Alice, Bob here" in by_testid(d, "chat-log").text, 10, "Alice never got Bob's message")
    # a message is not duplicated on either side
    assert by_testid(a, "chat-log").text.count("Hello from Alice") == 1
    assert by_testid(b, "chat-log").text.count("Hi Alice, Bob here") == 1


def test_mute_shows_on_the_other_side(otter, browsers):
    _, a, b, a_id, b_id = two_in_a_call(otter, browsers)
    icon = f'[data-testid="mic-off-{a_id}"]'
    wait(b, lambda d: not d.find_element(By.CSS_SELECTOR, icon).is_displayed(), 10)
    by_testid(a, "mic").click()
    assert by_testid(a, "mic").get_attribute("aria-pressed") == "false"
    wait(b, lambda d: d.find_element(By.CSS_SELECTOR, icon).is_displayed(), 10, "Bob does not see Alice muted")
    # Alice's outgoing audio is really silent: Bob's received audio energy stops growing
    time.sleep(1.0)
    e1 = stats(b, a_id)["audio"]["energy"]
    time.sleep(1.5)
    e2 = stats(b, a_id)["audio"]["energy"]
    assert e2 - e1 < 1e-3, (e1, e2)
    by_testid(a, "mic").click()
    wait(b, lambda d: not d.find_element(By.CSS_SELECTOR, icon).is_displayed(), 10, "unmute not shown")
    # camera off shows too
    by_testid(a, "camera").click()
    wait(b, lambda d: d.find_element(By.CSS_SELECTOR, f'.tile[data-peer="{a_id}"]').get_attribute("data-camera") == "off", 10)




def test_20mb_file_arrives_with_same_sha256(otter, browsers, tmp_path):
    _, a, b, _, _ = two_in_a_call(otter, browsers)
    data = os.urandom(20 * 1024 * 1024)
    path = tmp_path / "twenty-megabytes.bin"
    path.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    a.find_element(By.ID, "tab-files").click()
    b.find_element(By.ID, "tab-files").click()
    started = time.time()
    by_testid(a, "file-input").send_keys(str(path))
    # progress shows while it goes
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="file-list"] li[data-direction="receive"] progress'), 15)
    wait(b, lambda d: d.execute_script(
        "const li=document.querySelector('[data-testid=\"file-list\"] li[data-direction=\"receive\"]'); return li && li.dataset.state === 'done'"),
        90, "the file never finished")
    elapsed = time.time() - started
    # Bob downloads it, as a person would, and the file on disk is the same
    link = b.find_element(By.CSS_SELECTOR, '[data-testid="file-list"] li[data-direction="receive"] a[download]')
    assert link.is_displayed() and link.get_attribute("download") == "twenty-megabytes.bin"
    link.click()
    target = b.downloads / "twenty-megabytes.bin"
    deadline = time.time() + 30
    while time.time() < deadline and not (target.exists() and target.stat().st_size == len(data)):
        time.sleep(0.2)
    assert target.exists(), list(b.downloads.iterdir())
    assert hashlib.sha256(target.read_bytes()).hexdigest() == want
    assert b.find_element(By.CSS_SELECTOR, '[data-testid="file-list"] li[data-direction="receive"]').get_attribute("data-sha256") == want
    # the sender sees it verified
    wait(a, lambda d: d.execute_script(
        "const li=document.querySelector('[data-testid=\"file-list\"] li[data-direction=\"send\"]'); return li && li.dataset.state === 'done'"), 15)
    print(f"20 MiB in {elapsed:.2f} s = {20 / elapsed:.1f} MiB/s (including UI polling)")


def toast_text(d):
    t = d.find_element(By.ID, "toast")
    return t.text if t.is_displayed() else ""


def test_leave_removes_the_tile_on_the_other_side(otter, browsers, output_dir):
    _, a, b, a_id, _ = two_in_a_call(otter, browsers)
    by_testid(a, "leave").click()
    assert by_testid(a, "error").get_attribute("data-code") == "left"
    # the toast for the others is not shown to the one who leaves
    for _ in range(5):
        assert "left the call" not in toast_text(a), toast_text(a)
        time.sleep(0.1)
    wait(b, lambda d: a_id not in remote_peer_ids(d), 10, "Alice's tile stayed")
    wait(b, lambda d: toast_text(d) == "Alice left the call", 5, f"Bob was not told: {toast_text(b)!r}")
    # the "You left" screen's icon is the app's own (an SVG mask), not an emoji
    # that shows as an empty box on a system without an emoji font
    icon = a.find_element(By.ID, "error-icon")
    assert icon.text == "", f"the icon is a character: {icon.text!r}"
    shape = a.execute_script(
        "const i = document.querySelector('#error-icon .icon'); if (!i) return null;"
        "const s = getComputedStyle(i); const r = i.getBoundingClientRect();"
        "return {mask: s.webkitMaskImage || s.maskImage, w: r.width, h: r.height}")
    assert shape and "icons/leave.svg" in shape["mask"] and shape["w"] > 0 and shape["h"] > 0, shape
    a.save_screenshot(str(output_dir / "left.png"))


def test_a_person_without_a_name_is_guest_for_everyone(otter, browsers):
    room = otter.create_room(max_peers=2)
    a, b = browsers.new(), browsers.new()
    join(a, room["url"], "")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    join(b, room["url"], "Bob")
    [b_id] = wait_connected(a, 1)
    [a_id] = wait_connected(b, 1)
    own = a.find_element(By.CSS_SELECTOR, "#self-tile .tile-label").text
    # once Alice's state (name, mic, camera) has arrived over the data channel
    wait(b, lambda d: d.find_element(By.CSS_SELECTOR, f'.tile[data-peer="{a_id}"]').get_attribute("data-camera"), 10)
    seen = b.find_element(By.CSS_SELECTOR, f'.tile[data-peer="{a_id}"] .tile-label').text
    assert (own, seen) == ("Guest (you)", "Guest"), (own, seen)
    # and a named person's own label is their name, as the others see it
    wait(a, lambda d: d.find_element(By.CSS_SELECTOR, f'.tile[data-peer="{b_id}"] .tile-label').text == "Bob", 10)
    assert b.find_element(By.CSS_SELECTOR, "#self-tile .tile-label").text == "Bob (you)"
