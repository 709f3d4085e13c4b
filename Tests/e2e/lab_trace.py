"""A timeline of one page's call recovery, for diagnosing where its seconds
go (OTTER_LAB_TRACE=1 in test_e2e_netlab.py prints it for each move).

Hooks the SDK objects of the page's first peer (its RTCPeerConnection's
events, its negotiator's restarts and signals, the signaling socket's
probe/reconnect/state) and records each with the wall clock (ms since the
epoch, comparable between two pages of one machine)."""

TRACE_JS = r"""
const call = window.otterCall;
const log = window.__otterTrace = window.__otterTrace || [];
const now = () => performance.timeOrigin + performance.now();
const rec = (what) => log.push([now(), what]);
if (!call.__traced) {
  call.__traced = true;
  call.on("connection-state", (e) => rec(`state ${e.scope} ${e.peerId || ""} ${e.state}${e.attempt !== undefined ? " #" + e.attempt : ""}`));
  call.on("peer-rekeyed", (e) => rec(`rekeyed ${e.oldPeerId} -> ${e.peerId}`));
  const s = call.signaling;
  for (const name of ["probe", "scheduleReconnect", "connect"]) {
    const f = s[name];
    s[name] = function (...args) { rec(`signaling.${name}(${args.map(String).join(",")})`); return f.apply(this, args); };
  }
  const send = s.send;
  s.send = function (text) {
    let what = "frame";
    try { const m = JSON.parse(text); const d = typeof m.data === "string" ? JSON.parse(m.data) : m.data || m; what = d.description ? `${d.description.type}` : d.rejoin ? "rejoin" : d.candidate !== undefined ? "candidate" : Object.keys(d).join("+"); } catch {}
    const ok = send.call(this, text);
    if (what !== "candidate") rec(`send ${what} ${ok ? "" : "(lost: no socket)"}`);
    return ok;
  };
}
const peer = [...call.peersById.values()][0];
const pc = peer.pc, neg = peer.neg;
if (!pc.__traced) {
  pc.__traced = true;
  pc.addEventListener("iceconnectionstatechange", () => rec(`ice ${pc.iceConnectionState}`));
  pc.addEventListener("connectionstatechange", () => rec(`pc ${pc.connectionState}`));
  pc.addEventListener("signalingstatechange", () => rec(`sig ${pc.signalingState}`));
  pc.addEventListener("icegatheringstatechange", () => rec(`gathering ${pc.iceGatheringState}`));
  for (const name of ["restartIce", "_restartNow", "onMediaStalled", "onSignalingReady", "_armRetry", "_joinRemoteRestart"]) {
    const f = neg[name];
    neg[name] = function (...args) { rec(`neg.${name} polite=${neg.polite} recovering=${neg.recovering} attempt=${neg.attempt}`); return f.apply(this, args); };
  }
  const onSignal = neg.onSignal;
  neg.onSignal = function (data) {
    if (data.description) rec(`recv ${data.description.type} (sig ${pc.signalingState}, makingOffer=${neg.makingOffer})`);
    return onSignal.call(this, data);
  };
  // video: when frames stop and start being decoded, and the selected pair
  let frames = -1, movedAt = now(), stopped = false, pairId = "";
  setInterval(async () => {
    let f = 0, pair = "";
    try {
      (await pc.getStats()).forEach((st) => {
        if (st.type === "inbound-rtp" && st.kind === "video") f += st.framesDecoded || 0;
        if (st.type === "transport" && st.selectedCandidatePairId) pair = st.selectedCandidatePairId;
      });
    } catch { return; }
    const t = now();
    if (f > frames) {
      if (stopped) rec(`video decoding again (after ${(t - movedAt).toFixed(0)} ms without)`);
      stopped = false; frames = f; movedAt = t;
    } else if (!stopped && t - movedAt > 300) { stopped = true; rec("video stopped (300 ms without a frame)"); }
    if (pair !== pairId) { rec(`pair ${pairId} -> ${pair}`); pairId = pair; }
  }, 100);
  const prep = neg.prepareRestart;
  neg.prepareRestart = async function (...args) {
    const t = now();
    rec("prepareRestart (ICE servers) begins");
    try { return await prep.apply(this, args); } finally { rec(`prepareRestart done after ${(now() - t).toFixed(0)} ms`); }
  };
}
return true;
"""


def install(driver):
    driver.execute_script(TRACE_JS)


def take(driver):
    """The events recorded since the last take."""
    return driver.execute_script("return (window.__otterTrace || []).splice(0);")


def show(t0_epoch_ms, traces):
    """traces: {name: events}; prints them merged, in ms since t0."""
    rows = sorted((t - t0_epoch_ms, name, what) for name, evs in traces.items() for t, what in evs)
    for ms, name, what in rows:
        print(f"  {ms:8.0f} ms {name:5} {what}")
