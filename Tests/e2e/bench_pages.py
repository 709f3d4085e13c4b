"""The pages Scripts/bench-calls times against one `otter up`, call by call:
  - "bare":   fixtures/bare-call.html, bare WebRTC (one RTCPeerConnection a
              side, the same signaling socket, camera and ICE servers), no SDK;
  - "bare-dc": the same page with one negotiated DataChannel that says a
              hello when it opens, as the SDK's chat channel does: bare WebRTC
              with what the SDK carries beside media (on the thin link the
              channel's SCTP handshake and SDP section alone cost ~1 kB each
              way before the first frame);
  - "sdk":    fixtures/sdk-call.html, the README's embed example with its lobby
              (Otter.prepare() and the camera before join), rendering exactly
              what the bare page renders: one remote <video>, no self-view;
  - "readme": the same page joining as the README's smallest example does
              (REST checks and camera inside join(), after the click);
  - "webapp": the real web app (lobby, Join click, call screen with self-view).
Every kind: ms from "join" (the app: the Join click's event time) to the
`expectedDisplayTime` of the first remote frame on the joiner (B), the joiner's
selected candidate pair, and where the time went (window.benchPhases or the
SDK's call.timings, same clock).

The fixtures are served by `otter up` itself from a copy of the web app
(`web_dir()`), same origin as the app, so the pages load /config.js and the
SDK as the README's page does, on the loopback server and in the network lab.
"""
import shutil
import time
import tempfile
from pathlib import Path

import otter_e2e as E

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGE_FILES = ("bare-call.html", "bare-call.js", "sdk-call.html", "sdk-call.js", "bench-trace.js")
KINDS = ("webapp", "sdk", "bare", "readme", "bare-dc")


def web_dir():
    """A temporary copy of the web app with the benchmark pages next to it
    (as the README tells an embedder to place theirs). The caller removes it."""
    root = Path(tempfile.mkdtemp(prefix="otter-bench-web-"))
    web = root / "webapp"
    shutil.copytree(E.WEBAPP, web)
    for name in PAGE_FILES:
        shutil.copy(FIXTURES / name, web / name)
    return web


def page_url(room_url, page, relay, mode=None, channel=False):
    """The room link `<app>/?room=..#token=..` turned into `<app>/<page>?[relay=1&][mode=..&][dc=1&]room=..#token=..`."""
    extra = ("relay=1&" if relay else "") + (f"mode={mode}&" if mode else "") + ("dc=1&" if channel else "")
    return room_url.replace("/?room=", f"/{page}?{extra}room=", 1)


# The joiner's selected pair, whichever page holds the connection.
PAIR_JS = """
const done = arguments[arguments.length - 1];
const call = window.sdkCall || window.otterCall;
const pc = window.barePc || (call && call.peers[0] && call.connectionTo(call.peers[0].peerId));
if (!pc) { done(null); return; }
pc.getStats().then((stats) => {
  let id = null;
  stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) id = s.selectedCandidatePairId; });
  const pair = id && stats.get(id), l = pair && stats.get(pair.localCandidateId), r = pair && stats.get(pair.remoteCandidateId);
  done(l ? {local: l.candidateType, relayProtocol: l.relayProtocol || null, url: l.url || null,
            remote: r && r.candidateType} : null);
}, () => done(null));
"""

# Loads run modules asynchronously: wait for the page's object, then prepare().
PREPARE_JS = """
const [name, done] = [arguments[0], arguments[arguments.length - 1]];
const t = Date.now();
const go = () => {
  if (window[name]) window[name].prepare().then(() => done(true), (e) => done({error: String(e)}));
  else if (Date.now() - t > 20000) done({error: 'page never loaded'});
  else setTimeout(go, 20);
};
go();
"""

WEBAPP_FIRST_FRAME_JS = "return window.otterFirstFrame || null"


def _pair(b):
    for _ in range(50):
        pair = b.execute_async_script(PAIR_JS)
        if pair:
            return pair
        time.sleep(0.1)
    return None


def first_frame(server, a, b, kind, relay, timeout=40):
    """One call of `kind` in a fresh room: A joins first, then B. Returns
    {ms, callback_ms, pair, phases, trace} for B, and A's trace (trace_a)."""
    room = server.create_room(max_peers=2)
    try:
        if kind == "webapp":
            url = room["url"].replace("?room=", "?relay=1&room=", 1) if relay else room["url"]
            E.join(a, url, "A")
            if a.execute_script("return document.body.dataset.screen") != "call":
                raise RuntimeError("A could not join: " + E.error_text(a))
            E.open_lobby(b, url)
            E.wait(b, lambda d: d.execute_script("const v=document.getElementById('preview'); return v && v.videoWidth > 0"), 30)
            E.by_testid(b, "join").click()
            ff = E.wait(b, lambda d: d.execute_script(WEBAPP_FIRST_FRAME_JS), timeout, "web app: no remote frame")
            phases = b.execute_script("return window.otterCall && window.otterCall.timings") or {}
        else:
            page, obj, first, joined = (("bare-call.html", "bare", "bareFirstFrame", "bareJoined") if kind in ("bare", "bare-dc")
                                        else ("sdk-call.html", "sdkPage", "sdkFirstFrame", "sdkCall"))
            url = page_url(room["url"], page, relay, "readme" if kind == "readme" else None, kind == "bare-dc")
            for d in (a, b):
                d.get(url)
                r = d.execute_async_script(PREPARE_JS, obj)
                if r is not True:
                    raise RuntimeError(f"{kind} page: prepare failed: {r}")
            a.execute_script(f"return window.{obj}.join()")
            err = f"window.bareError || window.sdkError"
            E.wait(a, lambda d: d.execute_script(f"return !!window.{joined} || {err}"), 20, f"{kind} page: A never joined")
            b.execute_script(f"return window.{obj}.join()")
            ff = E.wait(b, lambda d: d.execute_script(f"return window.{first} || (({err}) && {{error: {err}}})"),
                        timeout, f"{kind} page: no remote frame")
            if "error" in ff:
                raise RuntimeError(f"{kind} page: {ff['error']}")
            phases = b.execute_script("return window.sdkPage ? window.sdkPage.phases() : window.benchPhases") or {}
        pair = _pair(b)
        # every RTCPeerConnection's timeline on B (fixtures/bench-trace.js; the app has none)
        trace = b.execute_script("return window.benchTrace || null")
        trace_a = a.execute_script("return window.benchTrace || null")  # and A's (the answerer's)
        return {"ms": ff["shown"], "callback_ms": ff["callback"], "pair": pair, "trace": trace, "trace_a": trace_a,
                "phases": {k: round(v, 1) for k, v in phases.items() if isinstance(v, (int, float))}}
    finally:
        for d in (a, b):
            try:
                d.get("about:blank")
            except Exception:
                pass
