// The SDK's call recovery (otter.js): a relay that went away, and the
// signaling server with it. Two Calls wired through a fake signaling server,
// with RTCPeerConnection fakes whose ICE and connection states the test sets.
import test from "node:test";
import assert from "node:assert/strict";
import { Call } from "../../Templates/webapp/otter.js";
import { addPeer, canSignal } from "../../Templates/webapp/peers.js";
import { onWelcome, onServerFrame } from "../../Templates/webapp/membership.js";
import { checkFlows } from "../../Templates/webapp/recovery.js";

const config = { apiUrl: "http://otter.test", signalUrl: "ws://otter.test/signal", iceServersPath: "/rooms/{roomId}/ice-servers", stunUrls: [] };
const oldServers = [{ urls: ["turn:127.0.0.1:3478"], username: "1:r1", credential: "old" }];
const newServers = [{ urls: ["turn:127.0.0.1:3478"], username: "2:r1", credential: "fresh" }];

const noMedia = () => ({ getTracks: () => [], getAudioTracks: () => [], getVideoTracks: () => [] });

class FakeRTC {
  constructor(cfg) {
    this.cfg = cfg;
    this.signalingState = "stable";
    this.connectionState = "new";
    this.iceConnectionState = "new";
    this.localDescription = null;
    this.remoteDescription = null;
    this.currentLocalDescription = null;
    this.transceivers = [];
    this.log = [];
  }
  addTransceiver(kind) { const t = { kind, sender: {}, receiver: { track: { kind } }, mid: null }; this.transceivers.push(t); return t; }
  getTransceivers() { return this.transceivers; }
  createDataChannel() { return (this.dc = { readyState: "open", sent: [], send(m) { this.sent.push(JSON.parse(m)); } }); }
  getConfiguration() { return { ...this.cfg }; }
  setConfiguration(c) { this.cfg = c; this.log.push(`servers ${c.iceServers[0].credential}`); }
  restartIce() { this.log.push("restartIce"); }
  async setLocalDescription() {}
  close() { this.signalingState = "closed"; this.connectionState = "closed"; }
  /** the browser's view changes: the handlers run as the browser would run them */
  set(ice, connection = ice) {
    this.iceConnectionState = ice;
    if (this.oniceconnectionstatechange) this.oniceconnectionstatechange();
    this.connectionState = connection;
    if (this.onconnectionstatechange) this.onconnectionstatechange();
  }
}

let fetches = [];
let iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
globalThis.fetch = async (url, init = {}) => {
  fetches.push(String(url));
  assert.equal(init.headers.Authorization, "Bearer t");
  const body = iceAnswer();
  if (!body) throw new TypeError("fetch failed"); // the server is down
  return new Response(JSON.stringify(body), { status: 200 });
};
globalThis.RTCPeerConnection = FakeRTC;
globalThis.WebSocket ??= class { static OPEN = 1; };

const flush = () => new Promise((r) => setTimeout(r, 5));
async function until(cond, ms = 3000) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await flush();
  return cond();
}

/** A signaling socket to a live server: pings are answered (as the server
 * does), every other frame is kept in `call.sent` when `keep`. */
function serverSocket(call, keep = true) {
  return {
    readyState: 1,
    close() {},
    send(text) {
      const m = JSON.parse(text);
      if (m.action === "ping") setTimeout(() => { call.signaling.heardAt = performance.now(); }, 5);
      else if (keep) call.sent.push(m);
    },
  };
}

/** A Call in a room, already connected to the peer `remoteId` (media flowing). */
function inCall(myId, remoteId) {
  const call = new Call({ config, roomId: "r1", token: "t", room: {}, iceServers: oldServers, relay: true, stream: noMedia(), name: "", stopTracksOnLeave: false });
  call._held = null;
  call.peerId = myId;
  call.signaling.state = "connected";
  call.sent = [];
  call.signaling.ws = serverSocket(call);
  call.events = [];
  for (const type of ["connection-state", "peer-joined", "peer-left", "peer-rekeyed"]) call.on(type, (d) => call.events.push({ type, ...d }));
  const peer = addPeer(call, remoteId);
  peer.pc.set("connected");
  call.events.length = 0;
  return { call, peer };
}

/** The signaling server goes away: each side's socket closes. */
function signalingDown(call) {
  call.signaling.ws = null;
  call.signaling.state = "reconnecting";
}

/** The (new) server welcomes a side back under a new id. */
function welcomeBack(call, peerId, peers) {
  call.sent = [];
  call.signaling.ws = serverSocket(call);
  onWelcome(call, { type: "welcome", peerId, peers }, false);
  call.signaling.setState("connected");
  for (const p of call.peersById.values()) if (canSignal(call, p)) p.neg.onSignalingReady();
}

/** Delivers what `from` sent through signaling to `to`, as the server would. */
function deliver(from, to) {
  const frames = from.sent.splice(0);
  for (const f of frames) onServerFrame(to, { type: "signal", from: from.peerId, data: f.data });
  return frames;
}

test("relay and signaling restart together: both keep their connection, learn the new ids, restart ICE with fresh servers", async () => {
  fetches = [];
  iceAnswer = () => null; // server down
  const A = inCall("a1", "b1"), B = inCall("b1", "a1");
  // the relay is gone: ICE disconnects on both sides, the UI hears "reconnecting" at once
  A.peer.pc.set("disconnected");
  B.peer.pc.set("disconnected");
  for (const side of [A, B]) {
    assert.deepEqual(side.call.events, [{ type: "connection-state", scope: "peer", peerId: side.peer.id, state: "reconnecting", attempt: 0 }]);
    assert.equal(side.call.peers[0].state, "reconnecting");
  }
  signalingDown(A.call);
  signalingDown(B.call);
  A.peer.pc.set("failed");
  B.peer.pc.set("failed");
  await flush();
  await flush();
  assert.ok(fetches.length >= 1, "fresh ICE servers asked for at once");
  assert.deepEqual(A.peer.pc.log.filter((l) => l === "restartIce"), [], "no restart offer while signaling is down");
  assert.equal(A.call.peers[0].state, "reconnecting", "failed, but the SDK is still at it");

  // the server is back (new process: it knows nobody); A is welcomed first
  iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
  welcomeBack(A.call, "a2", []);
  assert.equal(A.call.peersById.get("b1"), A.peer, "the connection to b1 is kept while b1 may come back");
  assert.ok(!A.call.events.some((e) => e.type === "peer-left"));
  // B comes back and finds a2: asks it rather than starting over
  welcomeBack(B.call, "b2", ["a2"]);
  assert.deepEqual(B.call.sent, [{ action: "signal", to: "a2", data: { rejoin: { peerId: "b1" } } }]);
  assert.equal(B.call.peersById.size, 1, "no second connection made meanwhile");
  // A hears of b2 (peer-joined) and the notice: renames, and tells b2 who it was
  onServerFrame(A.call, { type: "peer-joined", peerId: "b2" });
  deliver(B.call, A.call);
  assert.equal(A.call.peersById.get("b2"), A.peer);
  assert.ok(A.call.events.some((e) => e.type === "peer-rekeyed" && e.oldPeerId === "b1" && e.peerId === "b2"));
  assert.deepEqual(A.call.sent[0], { action: "signal", to: "b2", data: { rejoin: { peerId: "a1" } } });
  deliver(A.call, B.call);
  assert.equal(B.call.peersById.get("a2"), B.peer);
  // roles from the new ids, on both sides alike
  assert.equal(A.peer.neg.polite, "a2" < "b2");
  assert.equal(B.peer.neg.polite, !A.peer.neg.polite);
  // each connection restarts ICE, with the fresh TURN credentials set first
  for (const side of [A, B]) {
    assert.ok(await until(() => side.peer.pc.log.includes("restartIce")), JSON.stringify(side.peer.pc.log));
    const log = side.peer.pc.log;
    assert.ok(log.lastIndexOf("servers fresh") >= 0 && log.lastIndexOf("servers fresh") < log.indexOf("restartIce"), JSON.stringify(log));
  }
  assert.deepEqual(A.call.iceServers, newServers, "new connections get them too");
  // media flows again: "connected", and nothing more is scheduled
  A.call.events.length = 0;
  A.peer.pc.set("checking", "connecting");
  assert.deepEqual(A.call.events, [], "still reconnecting while ICE checks");
  A.peer.pc.set("connected");
  assert.deepEqual(A.call.events, [{ type: "connection-state", scope: "peer", peerId: "b2", state: "connected" }]);
  assert.equal(A.peer.neg.recovering, false);
  // B's tile is still there: no peer-left, no new peer
  await new Promise((r) => setTimeout(r, 1600)); // past the wait for a rekey
  assert.deepEqual([...A.call.peersById.keys()], ["b2"]);
  assert.deepEqual([...B.call.peersById.keys()], ["a2"]);
  A.call._teardown();
  B.call._teardown();
});

test("server back before ICE noticed the relay is gone: the rekey over the dead data channel is not relied on", async () => {
  iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
  const A = inCall("a1", "b1"), B = inCall("b1", "a1");
  signalingDown(A.call);
  signalingDown(B.call);
  welcomeBack(A.call, "a2", []);
  welcomeBack(B.call, "b2", ["a2"]);
  // both "connected" still: rekeys go out over data channels that deliver nothing now
  assert.deepEqual(A.peer.dc.sent.at(-1), { t: "rekey", peerId: "a2" });
  assert.deepEqual(B.peer.dc.sent.at(-1), { t: "rekey", peerId: "b2" });
  // the notice names the id A knew B by
  assert.deepEqual(B.call.sent, [{ action: "signal", to: "a2", data: { rejoin: { peerId: "b1" } } }]);
  deliver(B.call, A.call);
  deliver(A.call, B.call);
  deliver(B.call, A.call); // B's answer to A's notice: ends there
  assert.deepEqual(A.call.sent, []);
  assert.deepEqual([...A.call.peersById.keys()], ["b2"]);
  assert.deepEqual([...B.call.peersById.keys()], ["a2"]);
  // now ICE notices: the restart goes to the right ids
  A.peer.pc.set("disconnected");
  B.peer.pc.set("disconnected");
  for (const side of [A, B]) assert.ok(await until(() => side.peer.pc.log.includes("restartIce"), 4000), JSON.stringify(side.peer.pc.log));
  A.call._teardown();
  B.call._teardown();
});

test("only this side's signaling dropped: a rejoin notice to the peer the server still lists, then the restart", async () => {
  iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
  const A = inCall("a1", "b1"), B = inCall("b1", "a1");
  A.peer.pc.set("failed");
  signalingDown(A.call);
  welcomeBack(A.call, "a2", ["b1"]);
  // the notice goes first on the socket, the restart offer after it
  assert.deepEqual(A.call.sent[0], { action: "signal", to: "b1", data: { rejoin: { peerId: "a1" } } });
  deliver(A.call, B.call);
  assert.equal(B.call.peersById.get("a2"), B.peer);
  assert.deepEqual(B.call.sent, [], "b1 kept its id: nothing to tell back");
  assert.ok(await until(() => A.peer.pc.log.includes("restartIce")));
  A.call._teardown();
  B.call._teardown();
});

test("a peer whose connection still works is told the new id over its data channel, as before", () => {
  const A = inCall("a1", "b1");
  signalingDown(A.call);
  welcomeBack(A.call, "a2", []);
  assert.deepEqual(A.peer.dc.sent.at(-1), { t: "rekey", peerId: "a2" });
  assert.equal(A.call.peersById.get("b1"), A.peer);
  assert.deepEqual(A.call.sent, []);
  A.call._teardown();
});

test("peer state: connecting and failed before a first connection; reconnecting after one; failed once signaling is gone for good", async () => {
  iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
  const call = new Call({ config, roomId: "r1", token: "t", room: {}, iceServers: oldServers, relay: true, stream: noMedia(), name: "", stopTracksOnLeave: false });
  call._held = null;
  call.peerId = "a1";
  call.signaling.state = "connected";
  const states = [];
  call.on("connection-state", (d) => d.scope === "peer" && states.push(d.state));
  const peer = addPeer(call, "b1");
  peer.pc.set("checking", "connecting");
  peer.pc.set("failed");
  assert.deepEqual(states, ["connecting", "failed"], "never connected: the browser's own states");
  peer.pc.set("connected");
  peer.pc.set("disconnected");
  peer.pc.set("failed");
  assert.deepEqual(states.slice(2), ["connected", "reconnecting"], "disconnected → failed is one reconnecting");
  call.signaling.setState("expired");
  assert.equal(states.at(-1), "failed", "no signaling any more: the SDK cannot restart it");
  call._teardown();
});

test("connections recovering at once share one request for fresh ICE servers; a server that does not answer leaves the current ones", async () => {
  for (const up of [true, false]) {
    fetches = [];
    iceAnswer = () => (up ? { iceServers: newServers, ttlSeconds: 3600 } : null);
    const call = new Call({ config, roomId: "r1", token: "t", room: {}, iceServers: oldServers, relay: true, stream: noMedia(), name: "", stopTracksOnLeave: false });
    call._held = null;
    call.peerId = "a1";
    call.signaling.state = "connected";
    call.signaling.ws = serverSocket(call, false);
    const peers = ["b1", "c1", "d1"].map((id) => addPeer(call, id));
    for (const p of peers) p.pc.set("connected");
    for (const p of peers) p.pc.set("failed");
    for (const p of peers) assert.ok(await until(() => p.pc.log.includes("restartIce")));
    assert.ok(fetches.every((u) => u === "http://otter.test/rooms/r1/ice-servers"), fetches.join());
    if (up) assert.equal(fetches.length, 1, "one request serves every connection");
    else assert.ok(fetches.length <= 2, `a failed request is not repeated per connection: ${fetches.length}`);
    for (const p of peers) assert.equal(p.pc.log[0], up ? "servers fresh" : "servers old");
    call._teardown();
  }
});

test("stall watch: a connection that carried media and receives nothing for 2 s recovers; one that never carried much does not", async () => {
  iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
  const A = inCall("a1", "b1");
  clearInterval(A.call.flowTimer); // driven by hand here
  let bytes = 0;
  A.peer.pc.getStats = async () => new Map([["T01", { type: "transport", bytesReceived: bytes }]]);
  const realNow = Date.now;
  let now = 1_000_000;
  Date.now = () => now;
  try {
    const tick = async (ms, add) => { now += ms; bytes += add; await checkFlows(A.call); };
    await tick(0, 0);
    for (let i = 0; i < 3; i++) await tick(1000, 50_000); // ~50 KB/s of media
    assert.equal(A.peer.neg.recovering, false);
    const ws = A.call.signaling.ws;
    const send = ws.send.bind(ws);
    let pings = 0;
    ws.send = (text) => { if (JSON.parse(text).action === "ping") pings++; send(text); };
    await tick(1000, 0);
    assert.equal(A.peer.neg.recovering, false, "1 s of nothing is not a stall yet");
    // …but signaling is pinged already: if the network changed, its socket
    // died too, and the probe (1.5 s) runs while the stall is confirmed
    assert.equal(pings, 1, "the first check that saw nothing new pings signaling");
    await tick(1000, 0);
    assert.equal(A.peer.neg.recovering, true, "2 s of nothing: recovering");
    assert.equal(A.call.peers[0].state, "reconnecting", "told although ICE still says connected");
    assert.equal(A.call.events.at(-1).state, "reconnecting");
    await tick(1000, 30_000);
    assert.equal(A.peer.neg.recovering, false, "data again: recovered");
    assert.equal(A.call.events.at(-1).state, "connected");
    // a quiet connection (no media either way): nothing to tell from silence
    const B = inCall("b1", "a1");
    clearInterval(B.call.flowTimer);
    let quiet = 0;
    B.peer.pc.getStats = async () => new Map([["T01", { type: "transport", bytesReceived: quiet }]]);
    for (let i = 0; i < 5; i++) { now += 1000; quiet += i === 2 ? 300 : 0; await checkFlows(B.call); }
    assert.equal(B.peer.neg.recovering, false);
    B.call._teardown();
  } finally {
    Date.now = realNow;
    A.call._teardown();
  }
});

test("a second loss soon after a recovery asks for ICE servers again: the relay may have restarted since the last answer", async () => {
  fetches = [];
  iceAnswer = () => ({ iceServers: newServers, ttlSeconds: 3600 });
  const A = inCall("a1", "b1");
  A.peer.pc.set("failed");
  assert.ok(await until(() => A.peer.pc.log.includes("restartIce")), JSON.stringify(A.peer.pc.log));
  A.peer.pc.set("connected");
  assert.equal(A.peer.neg.recovering, false);
  assert.equal(fetches.length, 1);
  // the relay restarts again, a second after the first answer (well within
  // the 5 s a recovery's own restarts reuse one answer): new credentials
  const newer = [{ urls: ["turn:127.0.0.1:3478"], username: "3:r1", credential: "newer" }];
  iceAnswer = () => ({ iceServers: newer, ttlSeconds: 3600 });
  await new Promise((r) => setTimeout(r, 1000));
  A.peer.pc.log.length = 0;
  A.peer.pc.set("failed");
  assert.ok(await until(() => A.peer.pc.log.includes("restartIce")), JSON.stringify(A.peer.pc.log));
  assert.equal(fetches.length, 2, "asked again for the new loss");
  const log = A.peer.pc.log;
  assert.deepEqual(log.slice(0, log.indexOf("restartIce")).filter((l) => l.startsWith("servers")).slice(-1), ["servers newer"],
    `the restart uses the answer given after the loss: ${JSON.stringify(log)}`);
  assert.ok(!log.includes("servers fresh"), JSON.stringify(log));
  assert.deepEqual(A.call.iceServers, newer);
  A.call._teardown();
});
