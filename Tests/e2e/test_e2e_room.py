"""Rooms: four people all connected pairwise and a fifth told the room is full; relay-only
calls go through TURN; bad and expired links show their screens."""
import time

from selenium.webdriver.common.by import By

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import by_testid, error_text, join, open_lobby, remote_peer_ids, stats, wait, wait_connected, wait_media_flowing

LOW_LOAD_CAMERA = (320, 240, 15)  # width, height, frames per second


def test_four_connect_pairwise_and_a_fifth_sees_room_full(otter, browsers, output_dir):
    room = otter.create_room(max_peers=4)
    drivers = []
    t0 = time.monotonic()
    phases = []
    for i, name in enumerate(["Ann", "Ben", "Cat", "Dan"]):
        # Four Chromiums encode three streams each and decode three: on a
        # 2-core machine that starves them at 640x480@30. A smaller camera keeps
        # every pair's media and consent checks flowing (what is asserted below
        # is unchanged).
        d = browsers.new(camera=LOW_LOAD_CAMERA)
        join(d, room["url"], name)
        assert d.execute_script("return document.body.dataset.screen") == "call", f"{name}: {error_text(d)}"
        drivers.append(d)
        # the next one comes once everyone here is connected to everyone here
        joined = time.monotonic()
        for x in drivers:
            wait_connected(x, i, timeout=90)
        phases.append(f"{name}: joined after {joined - t0:.0f} s, all connected after {time.monotonic() - t0:.0f} s")
    ids = {}
    for d in drivers:
        connected = wait_connected(d, 3, timeout=60)
        assert len(set(connected)) == 3
        ids[d] = d.execute_script("return window.otterCall.peerId")
    # pairwise: each one's three connections are exactly the three others
    for d in drivers:
        assert sorted(wait_connected(d, 3)) == sorted(v for k, v in ids.items() if k is not d)
        assert sorted(remote_peer_ids(d)) == sorted(v for k, v in ids.items() if k is not d)
    # video decodes on every one of the 12 directed links
    for d in drivers:
        for pid in (v for k, v in ids.items() if k is not d):
            wait(d, lambda dd: (stats(dd, pid) or {}).get("video") and stats(dd, pid)["video"]["framesDecoded"] > 0, 60,
                 f"no decoded video from {pid}")
    phases.append(f"video decoded on all 12 links after {time.monotonic() - t0:.0f} s")
    print("; ".join(phases))
    time.sleep(1)
    drivers[0].save_screenshot(str(output_dir / "call-4.png"))
    # the fifth learns it in the lobby, before any click (test_e2e_full_room has the waiting)
    fifth = browsers.new(camera=LOW_LOAD_CAMERA)
    open_lobby(fifth, room["url"])
    assert fifth.execute_script("return document.body.dataset.screen") == "lobby", error_text(fifth)
    wait(fifth, lambda d: d.execute_script("return document.body.dataset.seat") == "full", 60,
         "the fifth's lobby did not say the room is full")
    assert "all 4 seats are taken" in by_testid(fifth, "seat").text
    assert not by_testid(fifth, "join").is_enabled()
    fifth.save_screenshot(str(output_dir / "room-full.png"))
    # the four are undisturbed
    for d in drivers:
        assert len(wait_connected(d, 3)) == 3


def test_relay_only_connects_through_turn(otter, browsers, output_dir):
    room = otter.create_room(max_peers=2)
    url = room["url"].replace("?room=", "?relay=1&room=")
    a, b = browsers.new(), browsers.new()
    join(a, url, "Alice")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    assert a.find_element(By.ID, "relay-badge").is_displayed()
    join(b, url, "Bob")
    [b_id] = wait_connected(a, 1, timeout=40)
    [a_id] = wait_connected(b, 1, timeout=40)
    for d, pid in ((a, b_id), (b, a_id)):
        pair = None
        for _ in range(50):
            pair = (stats(d, pid) or {}).get("pair")
            if pair and pair.get("state") == "succeeded":
                break
            time.sleep(0.2)
        assert pair and pair["local"] == "relay", pair
        wait_media_flowing(d, pid)


def test_expired_link_shows_its_screen(otter, browsers, output_dir):
    room = otter.create_room(max_peers=2, ttl_seconds=60)
    d = browsers.new()
    # valid now: the lobby shows
    open_lobby(d, room["url"])
    assert d.execute_script("return document.body.dataset.screen") == "lobby", error_text(d)
    expires = time.time() + 61
    while time.time() < expires + 1.5:
        time.sleep(1)
    d.get("about:blank")
    open_lobby(d, room["url"])
    assert d.execute_script("return document.body.dataset.screen") == "error"
    err = by_testid(d, "error")
    assert err.get_attribute("data-code") == "token-expired"
    assert "expired" in err.text.lower()
    assert not d.find_elements(By.CSS_SELECTOR, '[data-testid="join"]:not([hidden])') or not by_testid(d, "join").is_displayed()
    d.save_screenshot(str(output_dir / "expired.png"))


def test_tampered_link_shows_invalid_screen(otter, browsers):
    room = otter.create_room(max_peers=2)
    d = browsers.new()
    head, sig = room["url"].rsplit(".", 1)
    bad = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    open_lobby(d, bad)
    assert by_testid(d, "error").get_attribute("data-code") == "invalid-link", error_text(d)
    open_lobby(d, room["url"].split("#")[0])  # no token at all
    assert by_testid(d, "error").get_attribute("data-code") == "invalid-link"
