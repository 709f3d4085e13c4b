"""A relay-only call survives its relay restarting while signaling stays up:
`kill -HUP` makes `otter up` stop its embedded relay (every allocation with
it) and start a new one on the same ports, the way a renewed TLS certificate
is taken in. The SDK notices (no media, then ICE disconnected/failed), fetches
fresh TURN credentials (both pages: the one answering the other's restart
too), restarts ICE over the signaling socket it still has,
and video decodes again on both sides through new relay candidates within
10 s, without a reload; the page that notices first shows "Reconnecting…"
meanwhile (the other may be restarted by it before noticing on its own).

OTTER_RELAY_ONLY_RESTARTS sets how many restarts the call goes through
(default 2); each recovery time (SIGHUP → video decoding again on both sides)
is printed with their median.
"""
import os
import signal
import statistics
import time

from otter_e2e import browsers, output_dir  # noqa: F401  (fixtures)
from otter_e2e import start_relay_only_call, peer_states, remote_peer_ids, wait
from test_e2e_relay_restart import RECORDER_JS, call_stats, own_otter, wait_recovered  # noqa: F401  (own_otter: fixture)

RECOVERY_LIMIT_S = 10

TURN_USERNAMES_JS = """
const c = window.otterCall;
const pc = c.connectionTo(c.peers[0].peerId);
return pc.getConfiguration().iceServers.filter(s => s.username).map(s => s.username);
"""


def test_relay_only_call_recovers_when_only_the_relay_restarts(own_otter, browsers, output_dir):
    drivers, (b_id, a_id) = start_relay_only_call(own_otter, browsers)
    a, b = drivers
    pid = own_otter.proc.pid

    times = []
    for n in range(int(os.environ.get("OTTER_RELAY_ONLY_RESTARTS", "2"))):
        before = [call_stats(d) for d in drivers]
        for s in before:
            # both sides relay-only: the remote end is the other's relay address, signaled
            # ("relay") or met in a check before its candidate arrived ("prflx", after a restart)
            assert s["pair"] and s["pair"]["local"] == "relay" and s["pair"]["remote"] in ("relay", "prflx"), s
        users_before = [d.execute_script(TURN_USERNAMES_JS) for d in drivers]
        for d in drivers:
            # a healthy call before the restart (after the previous one, the SDK may still be settling)
            wait(d, lambda dd: dd.execute_script("return window.otterCall.peers.every(p => p.state === 'connected')"), 15,
                 f"the call was not healthy before restart {n + 1}: {peer_states(d)}")
            d.execute_script(RECORDER_JS)
        seen = own_otter.log_offset()
        # the credentials' expiry is in seconds, and the SDK reuses ICE servers fetched within 5 s
        time.sleep(1.1)
        t0 = time.monotonic()
        os.kill(pid, signal.SIGHUP)
        recovered, last = wait_recovered(drivers, before, RECOVERY_LIMIT_S)
        logged = own_otter.log_since(seen)
        assert "relay restarted" in logged, "otter up did not log that its relay restarted:\n" + logged[-3000:]
        assert len(recovered) == len(drivers), (
            f"restart {n + 1}: video did not decode again within {RECOVERY_LIMIT_S} s on every side: "
            f"recovered={recovered} last={last} states={[peer_states(d) for d in drivers]}")
        times.append(max(recovered.values()))
        print(f"relay restart {n + 1}: video decoding again {recovered[0]:.2f} s (Alice) / {recovered[1]:.2f} s (Bob) "
              f"after SIGHUP; pairs {before[0]['pair']['localPort']}→{last[0]['pair']['localPort']} "
              f"({last[0]['pair']['relayProtocol']})")
        # signaling never went: the same process, the same peers, no rejoin
        assert own_otter.proc.poll() is None and own_otter.proc.pid == pid
        told, fresh = {}, {}
        for name, d, before_users in zip(("Alice", "Bob"), drivers, users_before):
            wait(d, lambda dd: dd.execute_script(
                "const t = document.querySelector('.tile[data-peer]'); return t && t.dataset.state === 'connected'"), 10,
                "the tile never showed connected again")
            rec = d.execute_script("return window.recorded")
            shown = [t for t in rec["tiles"] if t["state"] == "reconnecting"]
            assert all(t["text"] == "Reconnecting…" for t in shown), rec["tiles"]
            sdk = rec["sdk"]
            assert [e for e in sdk if e["scope"] == "signaling" and e["state"] != "connected"] == [], sdk
            peer_states_seen = [e["state"] for e in sdk if e["scope"] == "peer"]
            assert not peer_states_seen or peer_states_seen[-1] == "connected", sdk
            told[name] = bool(shown) and "reconnecting" in peer_states_seen
            assert not [e for e in rec["other"] if e["type"] in ("peer-left", "peer-joined", "peer-rekeyed")], rec["other"]
            assert len(remote_peer_ids(d)) == 1 and d.execute_script("return document.body.dataset.screen") == "call"
            after_users = d.execute_script(TURN_USERNAMES_JS)
            assert after_users, "no TURN server configured after the restart"
            fresh[name] = after_users != before_users
        # The side that notices first shows "Reconnecting…" and restarts ICE; the
        # other may be restarted by it before its own stall check fires.
        print(f"  showed Reconnecting…: {told}; fresh TURN credentials: {fresh}")
        assert any(told.values()), f"neither page showed Reconnecting… during the outage: {told}"
        # an ICE restart gathers anew on both sides (the offerer and the answerer), and each
        # does so with TURN credentials fetched after the relay went away (DESIGN.md)
        assert all(fresh.values()), f"an ICE restart reused the old TURN credentials: {fresh}"
        restarts_made = sum(d.execute_script("return [...window.otterCall.peersById.values()][0].neg.restarts") for d in drivers)
        assert restarts_made >= n + 1, f"no ICE restart on either side: {[peer_states(d) for d in drivers]}"
        time.sleep(1)
    a.save_screenshot(str(output_dir / "relay-only-restart.png"))
    print(f"recovery after the relay alone restarts (relay-only call, 2 Chromiums): "
          f"p50 {statistics.median(times):.2f} s over {len(times)}: {', '.join(f'{t:.2f}' for t in times)}")
