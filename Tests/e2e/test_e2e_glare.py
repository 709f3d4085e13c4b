"""Both sides offer at once (glare): perfect negotiation must still give a call
with audio and video on every link.

The peers already in the room are told not to wait for a newcomer's offer
(`offerWaitMs: 0`), so their offers cross the newcomer's. The calls are made
with the SDK directly (the app never sets that option). Before the fix this
test guards, 3 of 3 four-peer rooms had a pair stuck with ICE "new": Chromium's
rollback of a first offer whose gathering had just begun left the answer
gathering forever."""
import time

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import open_lobby, peer_states, wait_connected

PEERS = 4

JOIN_JS = """
const [url, name, wait, done] = arguments;
import('./otter.js').then(async (Otter) => {
  try {
    const call = await Otter.join({ roomUrl: url, name, offerWaitMs: wait });
    window.otterCall = call;
    // play what arrives, as the app does
    call.on('track', ({ peerId, stream }) => {
      let v = document.getElementById('glare-' + peerId);
      if (!v) {
        v = document.createElement('video');
        v.id = 'glare-' + peerId; v.autoplay = true; v.playsInline = true; v.muted = true;
        document.body.appendChild(v);
      }
      if (v.srcObject !== stream) v.srcObject = stream;
    });
    done(call.peerId);
  } catch (err) { done('ERROR ' + (err.code || '') + ' ' + err.message); }
});
"""

# per remote peer: inbound audio bytes, decoded video frames, and the m-lines
# of the negotiated session
LINKS_JS = """
const done = arguments[arguments.length - 1];
const call = window.otterCall;
Promise.all(call.peers.map(async ({ peerId }) => {
  const pc = call.connectionTo(peerId);
  const out = { peerId, audioBytes: 0, frames: 0,
    mlines: (pc.currentLocalDescription.sdp.match(/^m=/gm) || []).length };
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'audio') out.audioBytes += s.bytesReceived || 0;
    if (s.kind === 'video') out.frames += s.framesDecoded || 0;
  });
  return out;
})).then(done, (e) => done(String(e)));
"""


def sdk_join(driver, url, name, offer_wait_ms):
    peer_id = driver.execute_async_script(JOIN_JS, url, name, offer_wait_ms)
    assert peer_id and not peer_id.startswith("ERROR"), peer_id
    return peer_id


def links(driver):
    return {x["peerId"]: x for x in driver.execute_async_script(LINKS_JS)}


def test_offers_crossing_on_every_join_still_connect_all_pairs_with_media(otter, browsers):
    room = otter.create_room(max_peers=PEERS)
    drivers, ids = [], []
    for i in range(PEERS):
        d = browsers.new(camera=(320, 240, 15))
        open_lobby(d, room["url"])
        ids.append(sdk_join(d, room["url"], f"P{i}", 0))
        drivers.append(d)
        for x in drivers:
            wait_connected(x, i, timeout=60)
    states = {me: peer_states(d) for d, me in zip(drivers, ids)}
    collisions = sum(p["negotiation"]["rollbacks"] + p["negotiation"]["offersIgnored"]
                     for s in states.values() for p in s["peers"].values())
    assert collisions >= PEERS - 1, f"the offers did not cross: {states}"
    before = {me: links(d) for d, me in zip(drivers, ids)}
    time.sleep(3)
    for d, me in zip(drivers, ids):
        after = links(d)
        assert sorted(after) == sorted(x for x in ids if x != me)
        for pid, link in after.items():
            was = before[me][pid]
            assert link["frames"] > was["frames"] and link["audioBytes"] > was["audioBytes"], \
                f"{me} gets no media from {pid}: {was} -> {link}\n{states[me]}"
            # audio, video and the data channel: one offer/answer round made
            # them, not a rollback followed by a second round adding more
            assert link["mlines"] == 3, f"{me} <-> {pid}: {link['mlines']} m-lines"
