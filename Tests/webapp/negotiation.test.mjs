import test, { afterEach } from "node:test";
import assert from "node:assert/strict";
import { Negotiator, retryDelay, isIceRestart, beyondHost } from "../../Templates/webapp/negotiation.js";
import { isPolite } from "../../Templates/webapp/protocol.js";

// A fake RTCPeerConnection with the JSEP signaling state machine that matters
// for perfect negotiation: stable / have-local-offer / have-remote-offer,
// implicit rollback of a local offer when a remote offer is set, an
// InvalidStateError for an answer in the wrong state, and negotiationneeded
// firing again once stable while local tracks are not yet negotiated.
class FakePC {
  constructor(name, rng) {
    this.name = name;
    this.rng = rng;
    this.signalingState = "stable";
    this.iceConnectionState = "new";
    this.localDescription = null;
    this.remoteDescription = null;
    this.tracks = 0;          // tracks added locally
    this.negotiatedTracks = 0; // tracks the remote side knows about
    this.offerTracks = 0;
    this.seq = 0;
    this.onnegotiationneeded = null;
    this.candidates = [];
    this.restartCalls = 0;
    this._nnQueued = false;
  }
  async _tick() { await new Promise((r) => setTimeout(r, Math.floor(this.rng() * 3))); }
  addTrack() { this.tracks++; this._queueNN(); }
  restartIce() { this.restartCalls++; this.iceRestartPending = true; this._queueNN(); }
  _needs() { return this.tracks > this.negotiatedTracks || this.iceRestartPending; }
  _queueNN() {
    if (this._nnQueued) return;
    this._nnQueued = true;
    setTimeout(() => {
      this._nnQueued = false;
      if (this.signalingState === "stable" && this._needs() && this.onnegotiationneeded) this.onnegotiationneeded();
    }, 0);
  }
  async setLocalDescription(d) {
    await this._tick();
    if (d && d.type === "rollback") {
      if (this.signalingState !== "have-local-offer") throw new Error(`rollback in state ${this.signalingState}`);
      this.signalingState = "stable";
      this.localDescription = null;
      this.rollbacks = (this.rollbacks || 0) + 1;
      this._queueNN();
      return;
    }
    if (this.signalingState === "stable") {
      this.offerTracks = this.tracks;
      this.localDescription = { type: "offer", sdp: `${this.name}-offer-${++this.seq} tracks=${this.tracks}` };
      this.signalingState = "have-local-offer";
      this.iceRestartPending = false;
    } else if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: `${this.name}-answer-${++this.seq}` };
      this.signalingState = "stable";
      this._queueNN();
    } else {
      // have-local-offer: re-applies the same offer
    }
  }
  async setRemoteDescription(d) {
    await this._tick();
    if (d.type === "offer") {
      if (this.signalingState === "have-local-offer") {
        this.signalingState = "stable"; // implicit rollback
        this.localDescription = null;
      }
      this.remoteDescription = d;
      this.signalingState = "have-remote-offer";
    } else if (d.type === "answer") {
      if (this.signalingState !== "have-local-offer") {
        const e = new Error(`answer in state ${this.signalingState}`);
        e.name = "InvalidStateError";
        throw e;
      }
      this.remoteDescription = d;
      this.negotiatedTracks = this.offerTracks;
      this.signalingState = "stable";
      this._queueNN();
    }
  }
  async addIceCandidate(c) {
    if (!this.remoteDescription) throw new Error("no remote description");
    this.candidates.push(c);
  }
}

function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Negotiators on real timers (pair()): closed after each test, or an offer
// left unanswered (the deadlock tests) would be made again every
// offerTimeoutMs and keep the process alive.
const live = [];
afterEach(() => { for (const n of live.splice(0)) n.close(); });

// Two peers wired through an in-order "signaling server" with random latency.
function pair(seed, { forcePolite } = {}) {
  const rng = mulberry32(seed);
  const ids = ["peer-a", "peer-b"];
  const pcs = ids.map((id) => new FakePC(id, rng));
  const errors = [];
  const negs = [];
  const lastDelivery = [0, 0];
  ids.forEach((id, i) => {
    const other = 1 - i;
    const polite = forcePolite ? forcePolite[i] : isPolite(id, ids[other]);
    const send = (data) => {
      // keep per-direction order (a WebSocket is ordered), random latency
      const copy = JSON.parse(JSON.stringify(data));
      const at = Math.max(lastDelivery[other], Date.now()) + Math.floor(rng() * 4);
      lastDelivery[other] = at;
      const chain = (negs[other].chain ||= Promise.resolve());
      negs[other].chain = chain.then(() => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())))).then(() => negs[other].onSignal(copy));
    };
    negs[i] = new Negotiator({ pc: pcs[i], polite, send, onError: (e) => errors.push(`${id}: ${e.message}`) });
    live.push(negs[i]);
    pcs[i].onnegotiationneeded = () => negs[i].onNegotiationNeeded();
  });
  return { pcs, negs, errors };
}

// (a generous deadline: it returns as soon as both are stable; 400 ms failed at load 50 on 2 cores)
async function settle(pcs, ms = 3000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    if (pcs.every((p) => p.signalingState === "stable" && !p._needs() && !p._nnQueued)) {
      await new Promise((r) => setTimeout(r, 20));
      if (pcs.every((p) => p.signalingState === "stable" && !p._needs())) return true;
    }
  }
  return false;
}

test("lower peerId is polite", () => {
  assert.equal(isPolite("a", "b"), true);
  assert.equal(isPolite("b", "a"), false);
  // the two sides of a pair always disagree
  for (const [x, y] of [["p1", "p2"], ["Z", "a"], ["10", "9"]]) assert.notEqual(isPolite(x, y), isPolite(y, x));
});

test("one side offers: the other answers and both are stable", async () => {
  const { pcs, negs, errors } = pair(1);
  pcs[0].addTrack();
  assert.ok(await settle(pcs), "did not converge");
  assert.deepEqual(errors, []);
  assert.equal(pcs[1].negotiatedTracks, 0);
  assert.equal(pcs[0].negotiatedTracks, 1);
  assert.equal(negs[0].stats.offersSent, 1);
  assert.equal(negs[1].stats.answersSent, 1);
});

test("glare: both offer at once, perfect negotiation converges (100 random schedules)", async () => {
  let collisions = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const { pcs, negs, errors } = pair(seed);
    pcs[0].addTrack();
    pcs[1].addTrack();
    assert.ok(await settle(pcs), `seed ${seed}: did not converge (${pcs.map((p) => p.signalingState)})`);
    assert.deepEqual(errors, [], `seed ${seed}`);
    assert.equal(pcs[0].negotiatedTracks, 1, `seed ${seed}: a's track not negotiated`);
    assert.equal(pcs[1].negotiatedTracks, 1, `seed ${seed}: b's track not negotiated`);
    // only the impolite side ever ignores, only the polite side rolls back
    const politeIdx = isPolite("peer-a", "peer-b") ? 0 : 1;
    assert.equal(negs[politeIdx].stats.offersIgnored, 0);
    assert.equal(negs[1 - politeIdx].stats.rollbacks, 0);
    collisions += negs[1 - politeIdx].stats.offersIgnored;
  }
  assert.ok(collisions > 0, "the schedules never produced an offer collision; the test would prove nothing");
});

test("glare without the polite rule (both impolite) does not converge — the fake models glare", async () => {
  const { pcs } = pair(7, { forcePolite: [false, false] });
  pcs[0].addTrack();
  pcs[1].addTrack();
  assert.equal(await settle(pcs, 200), false);
});

test("ICE candidates of an ignored offer do not raise errors on the impolite side", async () => {
  const send = () => {};
  const errors = [];
  const pc = new FakePC("b", Math.random);
  const n = new Negotiator({ pc, polite: false, send, onError: (e) => errors.push(e) });
  pc.signalingState = "have-local-offer"; // we have an offer out
  await n.onSignal({ description: { type: "offer", sdp: "x" } });
  assert.equal(n.stats.offersIgnored, 1);
  await n.onSignal({ candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 } });
  assert.deepEqual(errors, []);
  // but a candidate failing outside an ignored offer is reported
  n.ignoreOffer = false;
  await n.onSignal({ candidate: { candidate: "c", sdpMid: "0", sdpMLineIndex: 0 } });
  assert.equal(errors.length, 1);
});

// Manual timers: tests fire them in order of due time.
function manualTimers() {
  return {
    now: 0, t: [],
    setTimeout(fn, ms) { const h = { fn, ms, at: this.now + ms }; this.t.push(h); return h; },
    clearTimeout(h) { this.t = this.t.filter((x) => x !== h); },
    /** fires every timer due within `ms`, in order (timers they set too) */
    async advance(ms) {
      const until = this.now + ms;
      for (;;) {
        await flush();
        const next = this.t.filter((h) => h.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        this.t = this.t.filter((h) => h !== next);
        this.now = next.at;
        next.fn();
      }
      this.now = until;
      await flush();
    },
  };
}
const flush = () => new Promise((r) => setTimeout(r, 5));
async function until(cond, ms = 2000) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await flush();
  return cond();
}

test("ICE restart: failed restarts at once, disconnected only after the grace period", async () => {
  const timers = manualTimers();
  const pc = new FakePC("a", Math.random);
  const n = new Negotiator({ pc, polite: false, send: () => {}, timers, disconnectedGraceMs: 2500 });
  pc.iceConnectionState = "disconnected";
  assert.equal(n.onIceConnectionStateChange(), "wait");
  assert.equal(pc.restartCalls, 0);
  assert.deepEqual(timers.t.map((h) => h.ms), [2500]);
  // recovers on its own: timer cleared, no restart
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  assert.equal(timers.t.length, 0);
  // disconnected that lasts: restart when the timer fires
  pc.iceConnectionState = "disconnected";
  n.onIceConnectionStateChange();
  await timers.advance(2499);
  assert.equal(pc.restartCalls, 0);
  await timers.advance(1);
  assert.equal(pc.restartCalls, 1);
  // back, then failed: restarted at once
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  pc.iceConnectionState = "failed";
  assert.equal(n.onIceConnectionStateChange(), "restart");
  await timers.advance(0);
  assert.equal(pc.restartCalls, 2);
  n.close();
  assert.equal(n.onIceConnectionStateChange(), "none");
  assert.equal(timers.t.length, 0, "closed: no timer left");
});

test("retryDelay doubles per attempt up to the cap, with ±25 % jitter", () => {
  const mid = () => 0.5;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => retryDelay(a, { base: 4000, max: 30000, random: mid })), [4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(retryDelay(1, { random: () => 0 }), 3000);
  assert.equal(retryDelay(1, { random: () => 0.999999 }), 5000);
  assert.equal(retryDelay(100, { random: mid }), 30000, "no overflow on a long outage");
});

test("recovery: reconnecting at once, fresh ICE servers before the restart, retries with backoff until connected", async () => {
  const timers = manualTimers();
  const pc = new FakePC("a", () => 0);
  const log = [];
  const n = new Negotiator({
    pc, polite: false, send: () => {}, timers, disconnectedGraceMs: 2000, retryBaseMs: 4000, random: () => 0.5,
    prepareRestart: async () => { log.push("prepare"); await null; log.push("servers set"); },
    onRecovery: (state, attempt) => log.push(`${state} ${attempt}`),
  });
  const realRestart = pc.restartIce.bind(pc);
  pc.restartIce = () => { log.push("restartIce"); realRestart(); };
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  assert.deepEqual(log, [], "a first connection is no recovery");
  pc.iceConnectionState = "disconnected";
  n.onIceConnectionStateChange();
  assert.deepEqual(log, ["reconnecting 0", "prepare"], "the UI hears at once; ICE servers are fetched during the grace");
  await timers.advance(2000);
  assert.deepEqual(log, ["reconnecting 0", "prepare", "servers set", "prepare", "servers set", "restartIce"]);
  assert.equal(n.attempt, 1);
  // the restart did not get through (relay still away): next ones after 4 s, 8 s, 16 s
  pc.iceConnectionState = "failed";
  assert.equal(n.onIceConnectionStateChange(), "wait", "failed during a restart waits for its retry");
  for (const [ms, restarts] of [[3999, 1], [1, 2], [7999, 2], [1, 3], [16000, 4]]) {
    await timers.advance(ms);
    assert.equal(pc.restartCalls, restarts, `after +${ms} ms`);
  }
  // the relay is back: connected ends the recovery, nothing more is scheduled
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  assert.equal(log.at(-1), "connected 4");
  assert.equal(n.recovering, false);
  // the last restart offer is still out (nothing answers here): only its wait is left
  assert.equal(timers.t.length, 1);
  await timers.advance(60000);
  assert.equal(pc.restartCalls, 4, "ICE is connected: no more restarts");
  assert.ok(n.stats.offersLost >= 1, "the unanswered offer was made again");
});

test("recovery waits for signaling, then restarts and gives up an offer lost in the outage", async () => {
  const timers = manualTimers();
  const pc = new FakePC("a", () => 0);
  const sent = [];
  let signaling = true;
  const n = new Negotiator({ pc, polite: false, send: (d) => sent.push(d), timers, canSignal: () => signaling, random: () => 0.5 });
  pc.onnegotiationneeded = () => n.onNegotiationNeeded();
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  // an offer goes out just as the signaling server goes away: it is lost
  pc.addTrack();
  assert.ok(await until(() => pc.signalingState === "have-local-offer"));
  signaling = false;
  pc.iceConnectionState = "failed";
  n.onIceConnectionStateChange();
  await timers.advance(60000);
  assert.equal(pc.restartCalls, 0, "no restart offer into a dead socket");
  assert.equal(timers.t.length, 0, "nothing polls meanwhile");
  signaling = true;
  n.onSignalingReady();
  await timers.advance(0);
  assert.ok(await until(() => sent.filter((d) => d.description).length === 2));
  assert.equal(pc.rollbacks, 1, "the lost offer is rolled back");
  assert.equal(pc.restartCalls, 1);
  assert.equal(sent.filter((d) => d.description).length, 2, "a fresh offer (with the restart) went out");
  assert.equal(pc.signalingState, "have-local-offer");
});

test("recovery: the polite side lets the impolite side's restart offer go first", async () => {
  const timers = manualTimers();
  const pc = new FakePC("p", () => 0);
  const n = new Negotiator({ pc, polite: true, send: () => {}, timers, politeDelayMs: 500, retryBaseMs: 4000, random: () => 0.5 });
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  pc.iceConnectionState = "failed";
  n.onIceConnectionStateChange();
  await timers.advance(300);
  // the remote (impolite) restart offer arrives: answered, and no own restart follows
  await n.onSignal({ description: { type: "offer", sdp: "ice-restart" } });
  pc.iceConnectionState = "checking";
  n.onIceConnectionStateChange();
  await timers.advance(1000);
  assert.equal(pc.restartCalls, 0);
  assert.equal(n.recovering, true, "still recovering: a retry is armed in case the remote restart fails");
  assert.equal(timers.t.length, 1);
  await timers.advance(5000);
  assert.equal(pc.restartCalls, 1, "the remote restart did not work: this side retries");
});

test("after a rejoin the polite side's restart waits 0.5 s and is skipped when the peer's restart offer came: one restart, not two crossing", async () => {
  // Lab trace of a network change: both sides' first restart offers are lost
  // (one side's socket died with its address); once it rejoins, both used to
  // restart again, the polite side's offer throwing away the ICE checks the
  // impolite side's had just begun.
  const timers = manualTimers();
  const pc = new FakePC("p", () => 0);
  const n = new Negotiator({ pc, polite: true, send: () => {}, timers, politeDelayMs: 500, random: () => 0.5 });
  pc.onnegotiationneeded = () => n.onNegotiationNeeded();
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  assert.equal(n.onMediaStalled(), true);
  await timers.advance(500);
  assert.equal(pc.restartCalls, 1, "the first restart goes out (and is lost)");
  assert.ok(await until(() => pc.signalingState === "have-local-offer"));
  n.onSignalingReady(); // rejoined: a restart in 0.5 s (polite)…
  await timers.advance(100);
  // …but the impolite peer's restart offer arrives first: the stale offer is rolled back for it, answered
  await n.onSignal({ description: { type: "offer", sdp: "ice-restart" } });
  assert.equal(pc.signalingState, "stable");
  await timers.advance(1000);
  assert.equal(pc.restartCalls, 1, "no second restart of its own");
  assert.equal(n.recovering, true, "a retry is armed in case the peer's restart fails");
  await timers.advance(5000);
  assert.equal(pc.restartCalls, 2, "the peer's restart did not work: this side retries");
});

test("recovery: media stalled while ICE still says connected restarts at once; data arriving again ends it", async () => {
  const timers = manualTimers();
  const pc = new FakePC("a", () => 0);
  const log = [];
  const n = new Negotiator({ pc, polite: false, send: () => {}, timers, random: () => 0.5, onRecovery: (s) => log.push(s) });
  assert.equal(n.onMediaStalled(), false, "never connected: not a stall");
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  assert.equal(n.onMediaStalled(), true);
  assert.equal(n.onMediaStalled(), false, "one recovery at a time");
  await timers.advance(0);
  assert.equal(pc.restartCalls, 1, "restarted although ICE reports connected");
  await timers.advance(4000);
  assert.equal(pc.restartCalls, 2, "still nothing: retried");
  n.onMediaFlowing();
  assert.deepEqual(log, ["reconnecting", "connected"]);
  assert.equal(timers.t.length, 1, "only the wait for the restart offer still out");
  n.close();
  assert.equal(timers.t.length, 0);
});

// Two peers whose relay went away: ICE fails on both at the same moment; ICE
// connects again once an offer/answer round with new credentials completed
// after the relay is back. Both sides recover, offers may cross, and perfect
// negotiation must not deadlock (both polite-delay settings, many schedules).
test("both sides recover from a relay outage: restarts may cross, no deadlock (60 random schedules)", async () => {
  for (let seed = 1; seed <= 60; seed++) {
    const politeDelayMs = seed % 2 ? 0 : 300; // 0: restarts cross every time
    const rng = mulberry32(seed);
    const ids = ["peer-a", "peer-b"];
    const pcs = ids.map((id) => new FakePC(id, rng));
    let relayUp = false;
    let signalingUp = seed % 3 !== 0; // every third: signaling is down too, until the relay is back
    const negs = [];
    const errors = [];
    const timers = manualTimers();
    ids.forEach((id, i) => {
      const other = 1 - i;
      const send = (data) => {
        if (!signalingUp) return; // lost
        const copy = JSON.parse(JSON.stringify(data));
        negs[other].chain = (negs[other].chain || Promise.resolve()).then(() => negs[other].onSignal(copy));
      };
      negs[i] = new Negotiator({
        pc: pcs[i], polite: isPolite(id, ids[other]), send, timers, politeDelayMs, random: rng,
        canSignal: () => signalingUp, onError: (e) => errors.push(e.message),
      });
      pcs[i].onnegotiationneeded = () => negs[i].onNegotiationNeeded();
      pcs[i].iceConnectionState = "connected";
      negs[i].onIceConnectionStateChange();
    });
    // ICE model: a round completed with a restart while the relay is up connects both
    const rounds = [0, 0];
    const checkIce = () => {
      for (const [i, pc] of pcs.entries()) {
        const done = pc.signalingState === "stable" && pc.remoteDescription && pc.localDescription;
        if (relayUp && done && pc.iceConnectionState !== "connected" && rounds[i] !== pc.seq) {
          rounds[i] = pc.seq;
          pc.iceConnectionState = "connected";
          negs[i].onIceConnectionStateChange();
        }
      }
    };
    pcs.forEach((pc) => { pc.iceConnectionState = "failed"; });
    negs.forEach((n) => n.onIceConnectionStateChange());
    await timers.advance(3000 + Math.floor(rng() * 5000));
    relayUp = true;
    if (!signalingUp) { signalingUp = true; negs.forEach((n) => n.onSignalingReady()); }
    for (let step = 0; step < 200 && !pcs.every((pc) => pc.iceConnectionState === "connected"); step++) {
      await timers.advance(100);
      checkIce();
    }
    assert.deepEqual(pcs.map((pc) => pc.iceConnectionState), ["connected", "connected"], `seed ${seed}: ${JSON.stringify(negs.map((n) => n.stats))}`);
    assert.ok(negs.every((n) => !n.recovering), `seed ${seed}`);
    negs.forEach((n) => n.close());
  }
});

test("an ICE restart renegotiates between the pair", async () => {
  const { pcs, negs, errors } = pair(3);
  pcs[0].addTrack();
  assert.ok(await settle(pcs));
  pcs[1].iceConnectionState = "failed";
  negs[1].onIceConnectionStateChange();
  assert.ok(await settle(pcs));
  assert.deepEqual(errors, []);
  assert.equal(negs[1].stats.offersSent, 1, "the restarting side sent a new offer");
  assert.equal(negs[0].stats.answersSent, 1);
  negs.forEach((n) => n.close()); // no retry left running
});

test("beforeAnswer runs once per remote offer, after it is applied and before the answer is made", async () => {
  const rng = mulberry32(7);
  const pc = new FakePC("answerer", rng);
  const order = [];
  const realSld = pc.setLocalDescription.bind(pc);
  pc.setLocalDescription = async () => { order.push(`sld in ${pc.signalingState}`); return realSld(); };
  const sent = [];
  const neg = new Negotiator({
    pc, polite: true, send: (d) => sent.push(d),
    // the SDK starts sending on the offer's transceivers here, so its media is in the first answer
    beforeAnswer: () => order.push(`beforeAnswer in ${pc.signalingState}`),
  });
  await neg.onSignal({ description: { type: "offer", sdp: "o1" } });
  assert.deepEqual(order, ["beforeAnswer in have-remote-offer", "sld in have-remote-offer"]);
  assert.equal(sent.at(-1).description.type, "answer");
  // an answer to our own offer does not call it
  await neg.onNegotiationNeeded();
  order.length = 0;
  await neg.onSignal({ description: { type: "answer", sdp: "a1" } });
  assert.deepEqual(order, []);
});

test("firstAnswerDelayMs holds the connection's first answer, and only that one (ICE restarts are answered at once)", async () => {
  const timers = { t: [], setTimeout(fn, ms) { const h = { fn, ms }; this.t.push(h); return h; }, clearTimeout(h) { this.t = this.t.filter((x) => x !== h); } };
  const pc = new FakePC("answerer", () => 0);
  const order = [];
  const realSld = pc.setLocalDescription.bind(pc);
  pc.setLocalDescription = async () => { order.push("sld"); return realSld(); };
  const sent = [];
  const neg = new Negotiator({ pc, polite: true, send: (d) => sent.push(d), timers, firstAnswerDelayMs: 15,
    beforeAnswer: () => order.push("beforeAnswer") });
  const first = neg.onSignal({ description: { type: "offer", sdp: "o1" } });
  for (let i = 0; i < 20 && !timers.t.length; i++) await new Promise((r) => setTimeout(r, 1));
  assert.deepEqual(order, ["beforeAnswer"], "tracks are put on first; the answer is not set yet");
  assert.deepEqual(timers.t.map((h) => h.ms), [15]);
  assert.equal(sent.length, 0);
  timers.t.shift().fn();
  await first;
  assert.deepEqual(order, ["beforeAnswer", "sld"]);
  assert.equal(sent.at(-1).description.type, "answer");
  // the remote side's next offer (e.g. an ICE restart) is answered without a wait
  order.length = 0;
  await neg.onSignal({ description: { type: "offer", sdp: "o2" } });
  assert.deepEqual(order, ["beforeAnswer", "sld"]);
  assert.equal(timers.t.length, 0);
  assert.equal(neg.stats.answersSent, 2);
});

const HOST = { candidate: "candidate:1 1 udp 2122260223 10.0.2.2 40000 typ host generation 0", sdpMid: "0" };
const SRFLX = { candidate: "candidate:2 1 udp 1686052607 198.51.100.7 40001 typ srflx raddr 10.0.2.2 rport 40000", sdpMid: "0" };
const RELAY_TCP = { candidate: "candidate:3 1 udp 25042943 203.0.113.1 50000 typ relay raddr 10.0.2.2 rport 40002", sdpMid: "0" };

test("beyondHost: server-reflexive, peer-reflexive and relay candidates and the end of candidates, not host ones", () => {
  assert.equal(beyondHost(HOST), false);
  assert.equal(beyondHost({ candidate: "candidate:1 1 tcp 1518280447 10.0.2.2 9 typ host tcptype active" }), false);
  assert.equal(beyondHost(SRFLX), true);
  assert.equal(beyondHost(RELAY_TCP), true);
  assert.equal(beyondHost({ candidate: "candidate:4 1 udp 1845501695 10.0.2.9 40003 typ prflx raddr 0.0.0.0 rport 0" }), true);
  assert.equal(beyondHost(null), true, "end of candidates");
  assert.equal(beyondHost({ candidate: "" }), true, "end of candidates of a generation");
  // "relay" elsewhere in the line (e.g. a host named so) is not a type
  assert.equal(beyondHost({ candidate: "candidate:5 1 udp 2122260223 relay.example 40000 typ host" }), false);
});

// The check-order race on TURN/TCP paths (issue 20): the answer must wait for
// the remote side's relay candidate, but no longer than that.
function heldAnswerer() {
  const timers = { t: [], setTimeout(fn, ms) { const h = { fn, ms }; this.t.push(h); return h; }, clearTimeout(h) { this.t = this.t.filter((x) => x !== h); } };
  const pc = new FakePC("answerer", () => 0);
  const order = [];
  const realSld = pc.setLocalDescription.bind(pc);
  pc.setLocalDescription = async () => { order.push("sld"); return realSld(); };
  const realAdd = pc.addIceCandidate.bind(pc);
  pc.addIceCandidate = (c) => { order.push(c ? c.candidate.split(" typ ")[1].split(" ")[0] : "end"); return realAdd(c); };
  const sent = [];
  const neg = new Negotiator({ pc, polite: true, send: (d) => sent.push(d), timers, firstAnswerDelayMs: 15 });
  return { timers, pc, order, sent, neg };
}

test("the first answer's hold ends when the remote side's first non-host candidate is added, which goes first", async () => {
  const { timers, order, sent, neg } = heldAnswerer();
  const first = neg.onSignal({ description: { type: "offer", sdp: "o1" } });
  for (let i = 0; i < 20 && !timers.t.length; i++) await new Promise((r) => setTimeout(r, 1));
  assert.deepEqual(timers.t.map((h) => h.ms), [15], "held, at most 15 ms");
  await neg.onSignal({ candidate: HOST });
  assert.equal(timers.t.length, 1, "a host candidate does not end the hold");
  assert.equal(sent.length, 0);
  await neg.onSignal({ candidate: RELAY_TCP });
  await first;
  assert.equal(timers.t.length, 0, "the hold's timer is cleared");
  assert.deepEqual(order, ["host", "relay", "sld"], "the relay candidate is on the connection before the answer");
  assert.equal(sent.at(-1).description.type, "answer");
});

test("the end of the remote side's candidates ends the first answer's hold", async () => {
  const { timers, order, sent, neg } = heldAnswerer();
  const first = neg.onSignal({ description: { type: "offer", sdp: "o1" } });
  for (let i = 0; i < 20 && !timers.t.length; i++) await new Promise((r) => setTimeout(r, 1));
  await neg.onSignal({ candidate: HOST });
  await neg.onSignal({ candidate: null });
  await first;
  assert.deepEqual(order, ["host", "end", "sld"]);
  assert.equal(timers.t.length, 0);
  assert.equal(sent.at(-1).description.type, "answer");
});

test("no hold when the remote side's non-host candidate came before the answer was due", async () => {
  const { timers, order, neg, pc } = heldAnswerer();
  let releaseSrd;
  const realSrd = pc.setRemoteDescription.bind(pc);
  // the offer is still being applied when the candidate comes (a browser queues it behind the offer)
  pc.setRemoteDescription = async (d) => { await new Promise((r) => { releaseSrd = r; }); return realSrd(d); };
  const first = neg.onSignal({ description: { type: "offer", sdp: "o1" } });
  for (let i = 0; i < 20 && !releaseSrd; i++) await new Promise((r) => setTimeout(r, 1));
  const realAdd = pc.addIceCandidate;
  pc.addIceCandidate = (c) => { order.push("srflx queued"); return Promise.resolve(); };
  await neg.onSignal({ candidate: SRFLX });
  pc.addIceCandidate = realAdd;
  releaseSrd();
  await first;
  assert.equal(timers.t.length, 0, "no timer was set");
  assert.deepEqual(order, ["srflx queued", "sld"]);
});

test("a connection closed while its first answer is held sends no answer", async () => {
  const timers = { t: [], setTimeout(fn, ms) { const h = { fn, ms }; this.t.push(h); return h; }, clearTimeout(h) { this.t = this.t.filter((x) => x !== h); } };
  const pc = new FakePC("answerer", () => 0);
  const sent = [];
  const neg = new Negotiator({ pc, polite: true, send: (d) => sent.push(d), timers, firstAnswerDelayMs: 15 });
  const first = neg.onSignal({ description: { type: "offer", sdp: "o1" } });
  for (let i = 0; i < 20 && !timers.t.length; i++) await new Promise((r) => setTimeout(r, 1));
  neg.close();
  timers.t.shift().fn();
  await first;
  assert.deepEqual(sent, []);
  assert.equal(pc.signalingState, "have-remote-offer");
});

test("ICE that never starts after a finished round is restarted: impolite first, polite later, not once connected", () => {
  const timers = { t: [], setTimeout(fn, ms) { const h = { fn, ms }; this.t.push(h); return h; }, clearTimeout(h) { this.t = this.t.filter((x) => x !== h); } };
  const pc = new FakePC("a", Math.random);
  const n = new Negotiator({ pc, polite: false, send: () => {}, timers, stuckGraceMs: 10000 });
  pc.signalingState = "have-local-offer";
  assert.equal(n.onSignalingStateChange(), false, "mid-round: nothing to watch yet");
  pc.signalingState = "stable";
  pc.remoteDescription = { type: "answer" };
  assert.equal(n.onSignalingStateChange(), true);
  assert.equal(timers.t[0].ms, 10000);
  timers.t[0].fn();
  assert.equal(pc.restartCalls, 1, "still \"new\" after the grace: restarted");
  // a connection that gets through is left alone
  const pc2 = new FakePC("b", Math.random);
  const polite = new Negotiator({ pc: pc2, polite: true, send: () => {}, timers: (timers.t = [], timers), stuckGraceMs: 10000 });
  pc2.remoteDescription = { type: "offer" };
  assert.equal(polite.onSignalingStateChange(), true);
  assert.equal(timers.t[0].ms, 20000, "the polite side waits twice as long");
  pc2.iceConnectionState = "connected";
  polite.onIceConnectionStateChange();
  assert.equal(timers.t.length, 0, "connected: the watch is cleared");
  assert.equal(pc2.restartCalls, 0);
});

test("holdOffers: a connection waiting for the remote offer does not offer; lifted, one direct call offers once", async () => {
  const pc = new FakePC("a", mulberry32(3));
  const sent = [];
  const n = new Negotiator({ pc, polite: false, send: (d) => sent.push(d) });
  live.push(n);
  n.holdOffers = true;
  await n.onNegotiationNeeded();
  assert.equal(sent.length, 0);
  n.holdOffers = false;
  await Promise.all([n.onNegotiationNeeded(), n.onNegotiationNeeded()]); // the event may also come
  assert.equal(sent.filter((d) => d.description && d.description.type === "offer").length, 1);
});

test("isIceRestart: an offer with new ICE credentials is a restart, the first one or the same ones are not", () => {
  const sdp = (u) => ({ type: "offer", sdp: `v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:${u}\r\na=ice-pwd:x\r\n` });
  assert.equal(isIceRestart(null, sdp("abcd")), false, "no remote description yet: a first offer");
  assert.equal(isIceRestart(sdp("abcd"), sdp("abcd")), false, "a renegotiation keeps the credentials");
  assert.equal(isIceRestart(sdp("abcd"), sdp("efgh")), true);
  assert.equal(isIceRestart(sdp("abcd"), { type: "offer", sdp: "v=0\r\n" }), false, "no credentials: cannot tell");
});

test("the remote side restarts ICE first: this side shows reconnecting and answers with fresh ICE servers", async () => {
  const timers = manualTimers();
  const pc = new FakePC("a", () => 0);
  pc.remoteDescription = { type: "answer", sdp: "a=ice-ufrag:old1\r\n" };
  const log = [];
  let release;
  const n = new Negotiator({
    pc, polite: true, send: (d) => { if (d.description) log.push(`sent ${d.description.type}`); }, timers, retryBaseMs: 4000, random: () => 0.5,
    prepareRestart: async (since) => { log.push("fetch"); sinces.push(since); await new Promise((r) => { release = r; }); log.push("servers set"); },
    onRecovery: (state) => log.push(state),
  });
  const sinces = [];
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  // its stall check has not fired yet when the remote's restart offer arrives
  const before = Date.now();
  const answering = n.onSignal({ description: { type: "offer", sdp: "a=ice-ufrag:new2\r\n" } });
  assert.ok(await until(() => log.includes("fetch")));
  assert.deepEqual(log, ["reconnecting", "fetch"], "reconnecting at once; the answer waits for the fresh servers");
  assert.ok(sinces[0] >= before && sinces[0] <= Date.now(), "the servers are asked for as of the offer's arrival (the loss came before it)");
  release();
  await answering;
  assert.deepEqual(log, ["reconnecting", "fetch", "servers set", "sent answer"]);
  assert.equal(n.recovering, true);
  assert.equal(timers.t.length, 1, "a retry is armed in case the remote restart does not get through");
  pc.iceConnectionState = "checking";
  n.onIceConnectionStateChange();
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  assert.equal(log.at(-1), "connected");
  assert.equal(timers.t.length, 0);
  assert.equal(pc.restartCalls, 0, "the remote's restart did it: no own restart");
});

test("the remote's restart answer waits for fresh ICE servers at most prepareWaitMs", async () => {
  const timers = manualTimers();
  const pc = new FakePC("a", () => 0);
  pc.remoteDescription = { type: "answer", sdp: "a=ice-ufrag:old1\r\n" };
  const sent = [];
  const n = new Negotiator({
    pc, polite: true, send: (d) => sent.push(d), timers, prepareWaitMs: 2000,
    prepareRestart: () => new Promise(() => {}), // the API does not answer
  });
  pc.iceConnectionState = "connected";
  n.onIceConnectionStateChange();
  const answering = n.onSignal({ description: { type: "offer", sdp: "a=ice-ufrag:new2\r\n" } });
  await timers.advance(1999);
  assert.equal(sent.length, 0);
  await timers.advance(1);
  await answering;
  assert.equal(sent.filter((d) => d.description && d.description.type === "answer").length, 1);
});

// Two negotiators on manual timers, joined by a link that can lose messages
// (a signaling socket that died with its path, a peer's old id).
function lossyPair({ offerTimeoutMs = 8000 } = {}) {
  const timers = manualTimers();
  const pcs = [new FakePC("a", () => 0), new FakePC("b", () => 0)];
  const link = { up: [true, true], lost: 0 };
  const negs = [];
  [0, 1].forEach((i) => {
    const send = (data) => {
      if (!link.up[i]) { link.lost++; return; }
      const copy = JSON.parse(JSON.stringify(data));
      Promise.resolve().then(() => negs[1 - i].onSignal(copy));
    };
    negs[i] = new Negotiator({ pc: pcs[i], polite: i === 1, send, timers, random: () => 0.5, offerTimeoutMs });
    pcs[i].onnegotiationneeded = () => negs[i].onNegotiationNeeded();
  });
  return { timers, pcs, negs, link };
}

test("an offer lost on the way is rolled back and made again after offerTimeoutMs, and then answered", async () => {
  const { timers, pcs: [a, b], negs: [na], link } = lossyPair();
  link.up[0] = false; // Alice's socket is dead and she does not know it yet
  a.addTrack();
  assert.ok(await until(() => link.lost === 1 && a.signalingState === "have-local-offer"));
  link.up[0] = true;
  await timers.advance(7999);
  assert.equal(na.stats.offersLost, 0, "not before offerTimeoutMs");
  assert.equal(a.signalingState, "have-local-offer");
  await timers.advance(1);
  assert.ok(await until(() => a.signalingState === "stable" && b.signalingState === "stable"));
  assert.equal(na.stats.offersLost, 1);
  assert.equal(na.stats.offersSent, 2);
  assert.equal(a.negotiatedTracks, 1, "the track is negotiated");
});

test("an impolite side whose offer was lost does not ignore the polite side's offers for good", async () => {
  // Seen in the network lab: Alice (impolite) moved networks, her offer went
  // into the dead socket, ICE came back on its own; Bob's restart offers were
  // ignored one after another because Alice waited for an answer that never came.
  const { timers, pcs: [a, b], negs: [na, nb], link } = lossyPair();
  a.iceConnectionState = b.iceConnectionState = "connected";
  na.onIceConnectionStateChange();
  nb.onIceConnectionStateChange();
  link.up[0] = false;
  a.restartIce();
  assert.ok(await until(() => link.lost === 1));
  link.up[0] = true;
  // Bob's path broke: he restarts ICE, more than once
  b.iceConnectionState = "failed";
  nb.onIceConnectionStateChange();
  await timers.advance(3000);
  assert.ok(na.stats.offersIgnored >= 1, "Alice, impolite with an offer out, ignores Bob's offer");
  assert.equal(a.signalingState, "have-local-offer");
  await timers.advance(8000);
  assert.ok(await until(() => na.stats.offersLost === 1 && a.signalingState === "stable"));
  assert.ok(await until(() => b.signalingState === "stable"), `Bob: ${b.signalingState}`);
  assert.ok(nb.stats.answersSent >= 1, "Bob, polite, answered Alice's offer made again");
});

test("an offer out when signaling comes back is made again at once; a late answer to the old one is dropped", async () => {
  const { timers, pcs: [a, b], negs: [na, nb], link } = lossyPair();
  const errors = [];
  na.onError = (e) => errors.push(e.message);
  link.up[0] = false;
  a.addTrack();
  assert.ok(await until(() => link.lost === 1));
  link.up[0] = true;
  na.onSignalingReady(); // reconnected (ICE never went down: no recovery)
  assert.ok(await until(() => a.signalingState === "stable" && b.signalingState === "stable"));
  assert.equal(na.stats.offersLost, 1);
  assert.equal(timers.t.length, 0, "nothing left waiting");
  // the answer to an offer given up may still arrive: no offer waits for it
  await na.onSignal({ description: { type: "answer", sdp: "b-answer-late" } });
  assert.equal(na.stats.answersDropped, 1);
  assert.deepEqual(errors, []);
  assert.equal(nb.stats.answersSent, 1);
});
