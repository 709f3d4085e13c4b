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
