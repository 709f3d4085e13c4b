"""What the network-lab tests read from a call: the selected candidate pair
(types, protocols, addresses) and the media on it, from `getStats`."""
import time

from otter_e2e import error_text, join, peer_states, wait_connected

PATH_JS = """
const done = arguments[arguments.length - 1];
const c = window.otterCall;
const p = c && c.peers[0];
const pc = p && c.connectionTo(p.peerId);
if (!pc) { done(null); return; }
pc.getStats().then(stats => {
  const out = {peerId: p.peerId, state: p.state, ice: pc.iceConnectionState, pair: null, inVideo: null, outVideo: null, inAudio: null};
  let selected = null;
  stats.forEach(s => {
    if (s.type === 'inbound-rtp' && s.kind === 'video')
      out.inVideo = {frames: s.framesDecoded || 0, width: s.frameWidth || 0, height: s.frameHeight || 0,
                     fps: s.framesPerSecond || 0, bytes: s.bytesReceived || 0};
    if (s.type === 'outbound-rtp' && s.kind === 'video')
      out.outVideo = {width: s.frameWidth || 0, height: s.frameHeight || 0, fps: s.framesPerSecond || 0,
                      bytes: s.bytesSent || 0, limitation: s.qualityLimitationReason,
                      target: s.targetBitrate || 0};
    if (s.type === 'inbound-rtp' && s.kind === 'audio')
      out.inAudio = {samples: s.totalSamplesReceived || 0, energy: s.totalAudioEnergy || 0, bytes: s.bytesReceived || 0};
    if (s.type === 'transport' && s.selectedCandidatePairId) selected = s.selectedCandidatePairId;
  });
  const pair = selected && stats.get(selected);
  if (pair) {
    const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
    out.pair = {id: pair.id, state: pair.state,
                local: l && l.candidateType, localProtocol: l && l.protocol, relayProtocol: l && l.relayProtocol,
                localAddress: l && l.address, remote: r && r.candidateType, remoteProtocol: r && r.protocol,
                remoteAddress: r && r.address};
  }
  // every pair that ever worked (types, both ends): what else could have carried the call
  out.succeeded = [];
  stats.forEach(s => { if (s.type === 'candidate-pair' && (s.state === 'succeeded' || s.responsesReceived > 0)) {
    const l = stats.get(s.localCandidateId), r = stats.get(s.remoteCandidateId);
    out.succeeded.push({local: l && l.candidateType, remote: r && r.candidateType,
                        localAddress: l && l.address, remoteAddress: r && r.address});
  } });
  out.candidates = [];
  stats.forEach(s => { if (s.type === 'local-candidate' || s.type === 'remote-candidate')
    out.candidates.push(`${s.type === 'local-candidate' ? 'L' : 'R'} ${s.candidateType} ${s.protocol} ${s.address}:${s.port}${s.relayProtocol ? ' via ' + s.relayProtocol : ''}`); });
  done(out);
}, () => done(null));
"""


def path_stats(driver):
    return driver.execute_async_script(PATH_JS)


def start_call(room_url, a, b, timeout=40):
    """Alice and Bob join; returns when each sees the other connected."""
    join(a, room_url, "Alice")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    join(b, room_url, "Bob")
    assert b.execute_script("return document.body.dataset.screen") == "call", error_text(b)
    wait_connected(a, 1, timeout=timeout)
    wait_connected(b, 1, timeout=timeout)


def wait_decoding(driver, timeout=20, min_frames=10):
    """Video frames decoded and audio samples with energy, rising between two
    reads; returns (first, last) reads."""
    first = last = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        last = path_stats(driver)
        if last and last["inVideo"] and last["inAudio"]:
            if first is None:
                first = last
            elif (last["inVideo"]["frames"] >= first["inVideo"]["frames"] + min_frames
                  and last["inAudio"]["samples"] > first["inAudio"]["samples"]
                  and last["inAudio"]["energy"] > first["inAudio"]["energy"]):
                return first, last
        time.sleep(0.3)
    raise AssertionError(f"media did not flow: first={first} last={last} peers={peer_states(driver)}")


def _restarts(driver):
    return driver.execute_script("return [...window.otterCall.peersById.values()].reduce((n, p) => n + p.neg.restarts, 0)")


class Recovery:
    """One address change and what followed: seconds from the move until
    video decoded again at Alice (`alice`) and at Bob (`bob`) through a new
    pair not on her old address, and until Alice's page was back on
    signaling under a new peer id (`signaling`, None if not within the
    limit); `last` holds both pages' last path_stats."""

    def __init__(self, old, new, alice, bob, signaling, last, restarts):
        self.old, self.new, self.alice, self.bob, self.signaling = old, new, alice, bob, signaling
        self.last, self.restarts = last, restarts


def move_and_recover(lab, a, b, limit, until_signaling=False):
    """Moves Alice's (`a`'s) site to a new /30 and polls both pages every
    0.1 s for up to `limit` seconds until video decodes again on both sides
    through a new pair whose Alice end is not her old address (and, with
    `until_signaling`, until her page has rejoined signaling under a new id).
    Returns a Recovery; the caller asserts what it needs of it."""
    site = a.lab_site
    before = [path_stats(d) for d in (a, b)]
    old_id = a.execute_script("return window.otterCall.peerId")
    old = site.address
    restarts_before = _restarts(a) + _restarts(b)
    t0 = time.monotonic()
    new = lab.readdress(site)
    recovered, last, signaled = {}, [None, None], None

    def done():
        return len(recovered) == 2 and (signaled is not None or not until_signaling)
    while not done() and time.monotonic() - t0 < limit:
        for i, d in enumerate((a, b)):
            if i in recovered:
                continue
            s = path_stats(d)
            prev, last[i] = last[i], s
            if not (s and prev and s["pair"] and s["inVideo"] and prev["inVideo"]):
                continue
            # Alice's side of the new pair is her new address (or the relay)
            alice_end = s["pair"]["localAddress"] if i == 0 else s["pair"]["remoteAddress"]
            if s["inVideo"]["frames"] > prev["inVideo"]["frames"] and alice_end != old and s["pair"]["id"] != before[i]["pair"]["id"]:
                recovered[i] = time.monotonic() - t0
        if signaled is None and a.execute_script(
                "const c = window.otterCall; return c.signalingState === 'connected' && c.peerId !== arguments[0]", old_id):
            signaled = time.monotonic() - t0
        time.sleep(0.1)
    return Recovery(old, new, recovered.get(0), recovered.get(1), signaled, last, _restarts(a) + _restarts(b) - restarts_before)
