"""A running call survives its signaling server going away and coming back."""
import os
from pathlib import Path
import time

import pytest

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import (REPO, OtterServer, by_testid, error_text, join, record_events, remote_peer_ids, stats, wait,
                       wait_connected)


@pytest.fixture
def own_otter():
    binary = os.environ.get("OTTER_BIN", str(REPO / ".build" / "debug" / "otter"))
    if not Path(binary).exists():
        pytest.fail(f"otter binary not found at {binary}")
    s = OtterServer(binary).start()
    yield s
    s.stop()


def frames(d, pid):
    s = stats(d, pid)
    return s["video"]["framesDecoded"] if s and s["video"] else 0


def test_call_survives_a_signaling_restart(own_otter, browsers):
    room = own_otter.create_room(max_peers=2)
    a, b = browsers.new(), browsers.new()
    join(a, room["url"], "Alice")
    join(b, room["url"], "Bob")
    assert b.execute_script("return document.body.dataset.screen") == "call", error_text(b)
    [b_id] = wait_connected(a, 1)
    [a_id] = wait_connected(b, 1)
    for d in (a, b):
        record_events(d)

    own_otter.stop(keep_data=True)
    # both notice the signaling is gone…
    for d in (a, b):
        wait(d, lambda dd: dd.execute_script("return window.otterCall.signalingState") == "reconnecting", 15)
        assert by_testid(d, "error").get_attribute("data-code") is None or d.execute_script("return document.body.dataset.screen") == "call"
    # …but media keeps flowing peer to peer while it is down
    f1 = frames(b, a_id)
    time.sleep(3)
    assert frames(b, a_id) > f1 + 10
    assert d.execute_script("return document.body.dataset.screen") == "call"

    own_otter.start()
    for d in (a, b):
        wait(d, lambda dd: dd.execute_script("return window.otterCall.signalingState") == "connected", 40, "never reconnected")
    # still one connection each, one tile each (no duplicate from the rejoin), chat still works
    time.sleep(2.5)
    for d, other in ((a, b), (b, a)):
        assert len(wait_connected(d, 1, also=[other])) == 1
        assert len(d.execute_script("return window.otterCall.peers")) == 1
        assert len(remote_peer_ids(d)) == 1
    by_testid(a, "chat-input").send_keys("still here\n")
    wait(b, lambda d: "still here" in by_testid(d, "chat-log").text, 10)
    # and signaling through the new server works: an ICE restart renegotiates
    b_now = a.execute_script("return window.otterCall.peers[0].peerId")
    a.execute_script("window.otterCall.connectionTo(arguments[0]).restartIce()", b_now)
    time.sleep(3)
    assert len(wait_connected(a, 1, also=[b])) == 1
    a_now = b.execute_script("return window.otterCall.peers[0].peerId")
    f2 = frames(b, a_now)
    time.sleep(2)
    assert frames(b, a_now) > f2 + 5


def test_lost_connection_shows_its_screen(own_otter, browsers):
    """Alone in a room, the server goes away for good: after a while the app says so."""
    room = own_otter.create_room(max_peers=2)
    d = browsers.new()
    join(d, room["url"], "Alice")
    assert d.execute_script("return document.body.dataset.screen") == "call", error_text(d)
    own_otter.stop(keep_data=True)
    wait(d, lambda dd: dd.execute_script("return window.otterCall && window.otterCall.signalingState") == "reconnecting", 15)
    assert "Reconnecting" in d.find_element("id", "signal-status").text
    wait(d, lambda dd: dd.execute_script("return document.body.dataset.screen") == "error", 45, "no lost-connection screen")
    err = by_testid(d, "error")
    assert err.get_attribute("data-code") == "lost"
    assert "connection lost" in err.text.lower()


def test_token_expiring_mid_call_does_not_drop_the_call(own_otter, browsers):
    room = own_otter.create_room(max_peers=2, ttl_seconds=60)
    a, b = browsers.new(), browsers.new()
    join(a, room["url"], "Alice")
    join(b, room["url"], "Bob")
    [b_id] = wait_connected(a, 1)
    [a_id] = wait_connected(b, 1)
    exp = b.execute_script("return JSON.parse(atob(window.otterCall.token.split('.')[1].replace(/-/g,'+').replace(/_/g,'/'))).exp")
    while time.time() < exp + 2:
        time.sleep(1)
    # the link has expired; the call goes on
    f1 = frames(b, a_id)
    time.sleep(2)
    assert frames(b, a_id) > f1 + 10
    # even when the signaling connection drops now and cannot be re-opened
    own_otter.restart()
    for d in (a, b):
        wait(d, lambda dd: dd.execute_script("return window.otterCall.signalingState") == "expired", 30)
        assert d.execute_script("return document.body.dataset.screen") == "call"
        assert "expired" in d.find_element("id", "signal-status").text.lower()
    f2 = frames(b, a_id)
    time.sleep(2)
    assert frames(b, a_id) > f2 + 10
    by_testid(b, "chat-input").send_keys("still talking\n")
    wait(a, lambda d: "still talking" in by_testid(d, "chat-log").text, 10)
    assert len(wait_connected(a, 1)) == 1
