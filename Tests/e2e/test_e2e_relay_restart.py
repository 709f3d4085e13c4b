"""A relay-only call survives `otter up` restarting under it: signaling and the
embedded relay go away together (the relay's allocations with them) and come
back on the same ports and data dir. The SDK notices (ICE disconnected/failed),
fetches fresh ICE servers, restarts ICE through the new signaling server, and
video decodes again on both sides through a new relay pair, without a reload;
each page shows "Reconnecting…" meanwhile.

OTTER_RELAY_RESTARTS sets how many restarts the call goes through (default 3);
the recovery time of each (restart done → video decoding again on both
sides) is printed with their median.
"""
import os
import signal
import statistics
import time
from pathlib import Path

import pytest

from otter_e2e import browsers, output_dir  # noqa: F401  (fixtures)
from otter_e2e import start_relay_only_call, OtterServer, otter_binary, peer_states, remote_peer_ids, wait

RECOVERY_LIMIT_S = 15

# The call's one remote peer (its id changes when signaling comes back), the
# selected pair and decoded frames.
CALL_STATS_JS = """
const done = arguments[arguments.length - 1];
const c = window.otterCall;
const p = c && c.peers[0];
const pc = p && c.connectionTo(p.peerId);
if (!pc) { done(null); return; }
pc.getStats().then(stats => {
  const out = {peerId: p.peerId, state: p.state, frames: 0, pair: null};
  let selected = null;
  stats.forEach(s => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.frames = s.framesDecoded || 0;
    if (s.type === 'transport' && s.selectedCandidatePairId) selected = s.selectedCandidatePairId;
  });
  const pair = selected && stats.get(selected);
  if (pair) {
    const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
    out.pair = {id: pair.id, state: pair.state, local: l && l.candidateType, remote: r && r.candidateType,
                localPort: l && l.port, relayProtocol: l && l.relayProtocol};
  }
  done(out);
}, () => done(null));
"""

# Every state the page shows on a tile and every state the SDK tells, with times.
RECORDER_JS = """
const first = !window.recorded;
window.recorded = {tiles: [], sdk: [], other: []};
if (first) {
  new MutationObserver(ms => {
    for (const m of ms) window.recorded.tiles.push({state: m.target.dataset.state,
      text: m.target.querySelector('.tile-state').textContent, at: Date.now()});
  }).observe(document.getElementById('grid'), {subtree: true, attributes: true, attributeFilter: ['data-state']});
  window.otterCall.on('connection-state', d => window.recorded.sdk.push(Object.assign({at: Date.now()}, d)));
  for (const type of ['peer-rekeyed', 'peer-joined', 'peer-left', 'error'])
    window.otterCall.on(type, d => window.recorded.other.push(Object.assign({type, at: Date.now()}, d)));
}
"""


@pytest.fixture
def own_otter():
    binary = otter_binary()
    if not Path(binary).exists():
        pytest.fail(f"otter binary not found at {binary}")
    s = OtterServer(binary).start()
    yield s
    s.stop()


def call_stats(d):
    return d.execute_async_script(CALL_STATS_JS)


def restart(server, sig, down_s):
    """Stops `otter up` with `sig`, leaves it down `down_s` and starts it again on
    the same ports and data dir. Returns when it answers again, and how many
    start attempts that took."""
    server.proc.send_signal(sig)
    server.proc.wait(10)
    time.sleep(down_s)
    for attempt in range(1, 21):
        try:
            server.start()
            return attempt
        except (AssertionError, RuntimeError) as e:  # e.g. a port not free yet: say so, try again
            print(f"  otter up did not come back on attempt {attempt}: {str(e).splitlines()[-1]}")
            time.sleep(0.5)
    raise AssertionError("otter up never came back on its ports")


def wait_recovered(drivers, before, limit):
    """Until video decodes again on every side through a relay pair other
    than the one before the restart; returns seconds per side."""
    t0 = time.monotonic()
    last = {i: None for i in range(len(drivers))}
    recovered = {}
    while len(recovered) < len(drivers) and time.monotonic() - t0 < limit:
        for i, d in enumerate(drivers):
            if i in recovered:
                continue
            s = call_stats(d)
            prev, last[i] = last[i], s
            if not (s and prev and s["pair"]):
                continue
            if s["frames"] > prev["frames"] and s["pair"]["local"] == "relay" and s["pair"]["id"] != before[i]["pair"]["id"]:
                recovered[i] = time.monotonic() - t0
        time.sleep(0.1)
    return recovered, last


def test_relay_only_call_recovers_when_otter_up_restarts(own_otter, browsers, output_dir):
    drivers, (b_id, a_id) = start_relay_only_call(own_otter, browsers)
    a, b = drivers

    restarts = int(os.environ.get("OTTER_RELAY_RESTARTS", "3"))
    # long enough for both sides to notice on their own (a real restart takes seconds)
    down_s = float(os.environ.get("OTTER_RELAY_DOWN_S", "3"))
    times = []
    for n in range(restarts):
        before = [call_stats(d) for d in drivers]
        for s in before:
            assert s["pair"] and s["pair"]["local"] == "relay" and s["pair"]["remote"] == "relay", s
        for d in drivers:
            d.execute_script(RECORDER_JS)
            # a healthy call: no recovery going on before the restart
            assert not d.execute_script("return window.otterCall.peers.some(p => p.state !== 'connected')"), peer_states(d)
        sig = signal.SIGKILL if n % 2 == 0 else signal.SIGTERM
        t_stop = time.monotonic()
        attempts = restart(own_otter, sig, down_s)
        t_up = time.monotonic()
        recovered, last = wait_recovered(drivers, before, RECOVERY_LIMIT_S)
        if len(recovered) < len(drivers) or os.environ.get("OTTER_RELAY_RESTART_TRACE"):
            wall_up = time.time() - (time.monotonic() - t_up)
            for name, d in zip(("Alice", "Bob"), drivers):
                rec = d.execute_script("return window.recorded")
                events = sorted(rec["sdk"] + rec["other"], key=lambda e: e["at"])
                print(f"  {name}:", "; ".join(f"{e['at'] / 1000 - wall_up:+.2f} {e.get('type', e.get('scope'))} "
                                              f"{e.get('state', '')}{e.get('code', '')}" for e in events))
                print(f"  {name} now:", peer_states(d))
            print("  otter up:", "\n    ".join(([l.rstrip("\n") for l in own_otter.output] + own_otter.stderr().splitlines())[-15:]))
        assert len(recovered) == len(drivers), (
            f"restart {n + 1}: video did not decode again within {RECOVERY_LIMIT_S} s on every side: "
            f"recovered={recovered} last={last}")
        both = max(recovered.values())
        times.append(both)
        print(f"restart {n + 1} ({signal.Signals(sig).name}, down {t_up - t_stop:.2f} s, {attempts} start attempt(s)): "
              f"video decoding again {recovered[0]:.2f} s (Alice) / {recovered[1]:.2f} s (Bob) after otter up answered; "
              f"pairs {before[0]['pair']['localPort']}→{last[0]['pair']['localPort']}, "
              f"{before[1]['pair']['localPort']}→{last[1]['pair']['localPort']}")
        for d in drivers:
            # the page said so meanwhile, and says no more once media flows
            wait(d, lambda dd: dd.execute_script(
                "const t = document.querySelector('.tile[data-peer]'); return t && t.dataset.state === 'connected'"), 10,
                "the tile never showed connected again")
            rec = d.execute_script("return window.recorded")
            shown = [t for t in rec["tiles"] if t["state"] == "reconnecting"]
            assert shown and all(t["text"] == "Reconnecting…" for t in shown), rec["tiles"]
            sdk_states = [e["state"] for e in rec["sdk"] if e["scope"] == "peer"]
            assert "reconnecting" in sdk_states and sdk_states[-1] == "connected", rec["sdk"]
            assert "failed" not in sdk_states, rec["sdk"]
            # recovered by an ICE restart on the same connection, not by starting over
            assert not [e for e in rec["other"] if e["type"] in ("peer-left", "peer-joined")], rec["other"]
            assert not d.execute_script("return document.querySelector('.tile[data-peer] .tile-state').textContent")
            # the same call: one tile, one connection, no reload
            assert d.execute_script("return document.body.dataset.screen") == "call"
            assert len(remote_peer_ids(d)) == 1 and len(d.execute_script("return window.otterCall.peers")) == 1
        restarts_made = sum(d.execute_script("return [...window.otterCall.peersById.values()][0].neg.restarts") for d in drivers)
        assert restarts_made >= n + 1, f"no ICE restart on either side: {[peer_states(d) for d in drivers]}"
        time.sleep(2)
    a.save_screenshot(str(output_dir / "relay-restart.png"))
    print(f"recovery after otter up restarts (relay-only call, 2 Chromiums): "
          f"p50 {statistics.median(times):.2f} s over {len(times)}: {', '.join(f'{t:.2f}' for t in times)}")
