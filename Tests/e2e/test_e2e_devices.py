"""Devices mid-call: switching the camera (and microphone) to another device,
sharing the screen and going back to the camera. Chromium's fake capture gives
several cameras with `device-count=N` and a fake screen ("screen:-3:0",
800x600) for getDisplayMedia after a click.

Chromium's fake device factory makes its second camera (fake_device_1) a Y16
depth camera: it renders in a <video> but the WebRTC encoder drops every frame
of it (checked here: framesEncoded stops after replaceTrack to it, and resumes
with fake_device_0 or fake_device_2). So the tests switch between the I420
cameras fake_device_0 and fake_device_2."""
import time

from selenium.webdriver.common.by import By

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import by_testid, error_text, join, stats, wait, wait_connected

THREE_CAMERAS = "--use-fake-device-for-media-stream=device-count=3"

# What one side sends to a peer: the track on its video/audio sender, and the
# track the encoder is actually fed from (outbound-rtp → media-source).
SENDER_JS = """
const [peerId, kind, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const pc = window.otterCall.connectionTo(peerId);
const tx = pc.getTransceivers().find(t => t.receiver.track.kind === kind);
const t = tx.sender.track;
const out = {id: t && t.id, label: t && t.label, deviceId: t && t.getSettings().deviceId, state: t && t.readyState,
             screen: !!window.otterCall.screenTrack && window.otterCall.screenTrack === t,
             localId: (kind === 'video' ? window.otterCall.localStream.getVideoTracks() : window.otterCall.localStream.getAudioTracks()).map(x => x.id),
             encodedFrom: null, framesEncoded: null};
pc.getStats().then(stats => {
  stats.forEach(s => {
    if (s.type === 'outbound-rtp' && s.kind === kind && s.mediaSourceId) {
      const src = stats.get(s.mediaSourceId);
      out.encodedFrom = src && src.trackIdentifier;
      out.framesEncoded = s.framesEncoded === undefined ? null : s.framesEncoded;
    }
  });
  done(out);
}, () => done(out));
"""


def sender(driver, peer_id, kind="video"):
    return driver.execute_async_script(SENDER_JS, peer_id, kind)


def frames(driver, peer_id):
    s = stats(driver, peer_id)
    return s["video"]["framesDecoded"] if s and s["video"] else 0


def audio_samples(driver, peer_id):
    s = stats(driver, peer_id)
    return s["audio"]["samples"] if s and s["audio"] else 0


def keeps_decoding(driver, peer_id, more=30, timeout=30):
    """framesDecoded from peer_id rises by `more` from now on."""
    start = frames(driver, peer_id)
    wait(driver, lambda d: frames(d, peer_id) >= start + more, timeout,
         f"video from {peer_id} stopped being decoded (stuck near {start} frames)")


def call_of_two(otter, browsers, flags=()):
    room = otter.create_room(max_peers=2)
    drop = ("--use-fake-device-for-media-stream",) if flags else ()
    a = browsers.new(extra_flags=flags, drop_flags=drop)
    b = browsers.new()
    join(a, room["url"], "Alice")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    join(b, room["url"], "Bob")
    assert b.execute_script("return document.body.dataset.screen") == "call", error_text(b)
    [b_id] = wait_connected(a, 1, timeout=40)
    [a_id] = wait_connected(b, 1, timeout=40)
    keeps_decoding(b, a_id, more=10)
    return a, b, a_id, b_id


def devices(driver, kind):
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.mediaDevices.enumerateDevices().then(ds => done(ds.map(d => ({kind: d.kind, id: d.deviceId, label: d.label}))))")


def switch(driver, kind, device_id):
    r = driver.execute_async_script(
        "const [kind, id, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];"
        "window.otterCall.switchDevice(kind, id).then(t => done({id: t.id, label: t.label}), e => done({error: `${e.code}: ${e.message}`}))",
        kind, device_id)
    assert "error" not in r, r["error"]
    return r


def test_switching_the_camera_replaces_the_sent_track_and_the_other_side_keeps_decoding(otter, browsers, output_dir):
    a, b, a_id, b_id = call_of_two(otter, browsers, flags=(THREE_CAMERAS,))
    cams = [d for d in devices(a, "videoinput") if d["kind"] == "videoinput"]
    assert len({c["id"] for c in cams}) == 3, f"Chromium does not offer three fake cameras: {cams}"
    before = sender(a, b_id)
    assert before["encodedFrom"] == before["id"], before
    assert before["label"] == "fake_device_0", before
    [target] = [c for c in cams if c["label"] == "fake_device_2"]
    a.execute_script("window.__oldCamera = window.otterCall.localStream.getVideoTracks()[0]")

    new = switch(a, "video", target["id"])

    after = sender(a, b_id)
    assert after["id"] == new["id"] != before["id"], (before, after)
    assert after["deviceId"] == target["id"] and after["label"] == target["label"] != before["label"], (target, after)
    assert after["state"] == "live"
    assert after["localId"] == [after["id"]], "the local stream (self view) shows the new camera"
    assert a.execute_script("return window.__oldCamera.readyState") == "ended", "the old camera was not released"
    # the encoder is fed by the new camera and keeps producing frames…
    wait(a, lambda d: sender(d, b_id)["encodedFrom"] == new["id"], 15, "the encoder still reads the old track")
    enc = sender(a, b_id)["framesEncoded"]
    wait(a, lambda d: sender(d, b_id)["framesEncoded"] > enc + 10, 20, "no frames encoded from the new camera")
    # …and Bob keeps seeing Alice, with no renegotiation
    keeps_decoding(b, a_id)
    assert b.execute_script(
        f"const v=document.querySelector('[data-testid=\"video-{a_id}\"]'); return v.videoWidth > 0 && !v.paused")
    # switching back works the same way
    back = switch(a, "video", before["deviceId"])
    assert sender(a, b_id)["id"] == back["id"]
    keeps_decoding(b, a_id)


def test_switching_the_microphone_replaces_the_sent_track_and_audio_keeps_flowing(otter, browsers):
    a, b, a_id, b_id = call_of_two(otter, browsers)
    before = sender(a, b_id, "audio")
    mics = [d for d in devices(a, "audioinput") if d["kind"] == "audioinput" and d["id"] not in ("default", "communications")]
    others = [m for m in mics if m["id"] != before["deviceId"]]
    assert others, f"Chromium offers one fake microphone only: {mics} (sending {before})"
    new = switch(a, "audio", others[0]["id"])
    after = sender(a, b_id, "audio")
    assert after["id"] == new["id"] != before["id"], (before, after)
    assert after["deviceId"] == others[0]["id"]
    s0 = stats(b, a_id)["audio"]
    wait(b, lambda d: stats(d, a_id)["audio"]["samples"] > s0["samples"] + 48000
         and stats(d, a_id)["audio"]["energy"] > s0["energy"], 20, "Bob stopped hearing Alice after the switch")


def test_screen_share_reaches_the_other_side_and_stopping_restores_the_camera(otter, browsers, output_dir):
    a, b, a_id, b_id = call_of_two(otter, browsers)
    camera = sender(a, b_id)
    tile = f'.tile[data-peer="{a_id}"]'
    assert "screen" not in b.find_element(By.CSS_SELECTOR, tile).get_attribute("class").split()

    by_testid(a, "screen").click()  # a real click: getDisplayMedia needs a user gesture
    toast = "const t = document.getElementById('toast'); return t.hidden ? '' : t.textContent"
    wait(a, lambda d: d.execute_script("return !!window.otterCall.screenTrack") or d.execute_script(toast), 20,
         "getDisplayMedia neither succeeded nor failed")
    assert a.execute_script("return !!window.otterCall.screenTrack"), "screen share failed: " + a.execute_script(toast)
    assert by_testid(a, "screen").get_attribute("aria-pressed") == "true"
    shared = sender(a, b_id)
    assert shared["screen"] and shared["id"] != camera["id"], (camera, shared)
    wait(a, lambda d: sender(d, b_id)["encodedFrom"] == shared["id"], 15, "the encoder does not read the screen")
    # Bob sees that Alice shares her screen and keeps decoding what she sends
    wait(b, lambda d: "screen" in d.find_element(By.CSS_SELECTOR, tile).get_attribute("class").split(), 15,
         "Bob's tile for Alice does not show a screen share")
    keeps_decoding(b, a_id)
    time.sleep(0.5)
    b.save_screenshot(str(output_dir / "screen-share-remote.png"))

    by_testid(a, "screen").click()
    wait(a, lambda d: d.execute_script("return window.otterCall.screenTrack === null"), 15, "stopScreen did not finish")
    assert by_testid(a, "screen").get_attribute("aria-pressed") == "false"
    restored = sender(a, b_id)
    assert restored["id"] == camera["id"] and restored["state"] == "live" and not restored["screen"], (camera, restored)
    wait(a, lambda d: sender(d, b_id)["encodedFrom"] == camera["id"], 15, "the encoder does not read the camera again")
    wait(b, lambda d: "screen" not in d.find_element(By.CSS_SELECTOR, tile).get_attribute("class").split(), 15,
         "Bob still sees a screen share")
    keeps_decoding(b, a_id)
