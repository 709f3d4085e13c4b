"""A full room says so in the lobby, before the Join click, and offers to wait:
whoever waits joins by themselves when a seat frees. Checking for a seat
disturbs nobody in the call."""
import time

from selenium.webdriver.common.by import By

from a11y import screen_problems
from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import by_testid, error_text, join, open_lobby, remote_peer_ids, wait, wait_connected


def seat(d):
    return d.execute_script("return document.body.dataset.seat")


def toast_text(d):
    t = d.find_element(By.ID, "toast")
    return t.text if t.is_displayed() else ""


def test_full_room_is_told_in_the_lobby_and_waiting_joins_when_a_seat_frees(otter, browsers, output_dir):
    room = otter.create_room(max_peers=2)
    ann, ben, cat = browsers.new(), browsers.new(), browsers.new()
    join(ann, room["url"], "Ann")
    assert ann.execute_script("return document.body.dataset.screen") == "call", error_text(ann)

    # Ben's lobby checks for a seat: free, and Ann sees nothing of the check
    open_lobby(ben, room["url"])
    wait(ben, lambda d: seat(d) in ("free", "full", "unknown"), 20, "the lobby never checked for a seat")
    assert seat(ben) == "free"
    assert by_testid(ben, "join").is_enabled()
    assert not by_testid(ben, "seat").is_displayed()
    time.sleep(2)  # longer than the SDK waits for a newcomer's offer
    assert remote_peer_ids(ann) == [], "the seat check showed up as a participant"
    assert toast_text(ann) == ""

    join(ben, room["url"], "Ben")
    assert ben.execute_script("return document.body.dataset.screen") == "call", error_text(ben)
    [ben_id] = wait_connected(ann, 1)
    wait_connected(ben, 1)

    # Cat opens the link of the full room: the lobby says it, before any click
    open_lobby(cat, room["url"])
    assert cat.execute_script("return document.body.dataset.screen") == "lobby", error_text(cat)
    wait(cat, lambda d: seat(d) == "full", 20, f"the lobby did not say the room is full (seat={seat(cat)})")
    box = by_testid(cat, "seat")
    assert box.is_displayed() and "full" in box.text.lower() and "both seats are taken" in box.text, box.text
    assert not by_testid(cat, "join").is_enabled(), "Join is offered in a full room"
    wait_button = by_testid(cat, "seat-wait")
    assert wait_button.is_displayed() and wait_button.text == "Wait for a seat"
    wait(cat, lambda d: d.execute_script("const v=document.getElementById('preview'); return v && v.videoWidth > 0"), 30)
    time.sleep(0.5)
    cat.save_screenshot(str(output_dir / "lobby-room-full.png"))
    assert screen_problems(cat) == []  # axe-core, and every button named

    wait_button.click()
    wait(cat, lambda d: seat(d) == "waiting", 5)
    assert "Waiting for a seat" in by_testid(cat, "seat").text
    assert by_testid(cat, "seat-wait").text == "Stop waiting"
    cat.save_screenshot(str(output_dir / "lobby-waiting-for-a-seat.png"))
    assert screen_problems(cat) == []
    # the repeated checks of a full room disturb nobody in it
    time.sleep(4)
    assert cat.execute_script("return document.body.dataset.screen") == "lobby"
    assert remote_peer_ids(ann) == [ben_id]

    # Ben leaves: Cat gets the seat without a click, and Ann and Cat connect
    by_testid(ben, "leave").click()
    wait(cat, lambda d: d.execute_script("return document.body.dataset.screen") in ("call", "error"), 30,
         "Cat never joined after the seat freed")
    assert cat.execute_script("return document.body.dataset.screen") == "call", error_text(cat)
    [ann_id] = wait_connected(cat, 1, timeout=40)
    assert ann_id == ann.execute_script("return window.otterCall.peerId")
    wait(ann, lambda d: len(d.execute_script(
        "return window.otterCall.peers.filter(p => p.state === 'connected')")) == 1 and ben_id not in remote_peer_ids(d), 30)
