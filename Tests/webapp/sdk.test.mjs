import test from "node:test";
import assert from "node:assert/strict";
import { join, prepare, resolveConfig, OtterError } from "../../Templates/webapp/otter.js";

// join()'s checks before any media or WebRTC: link, expiry, REST answers.
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims) => `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
const config = { apiUrl: "http://127.0.0.1:9/", signalUrl: "ws://127.0.0.1:9/signal", iceServersPath: "/rooms/{roomId}/ice-servers", stunUrls: [] };
const future = Math.floor(Date.now() / 1000) + 3600;

function mockFetch(routes) {
  const calls = [];
  globalThis.fetch = async (url, init = {}) => {
    calls.push({ url: String(url), auth: init.headers && init.headers.Authorization });
    for (const [re, status, body] of routes) {
      if (re.test(String(url))) return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    }
    throw new TypeError("fetch failed");
  };
  return calls;
}

async function code(p) {
  try { await p; } catch (e) { assert.ok(e instanceof OtterError, `not an OtterError: ${e}`); return e.code; }
  assert.fail("join did not fail");
}

test("config comes from window.OTTER_CONFIG or the option; missing config is a clear error", () => {
  assert.throws(() => resolveConfig(undefined), (e) => e.code === "bad-config");
  globalThis.OTTER_CONFIG = { apiUrl: "http://a", signalUrl: "ws://a/s" };
  assert.equal(resolveConfig().iceServersPath, "/rooms/{roomId}/ice-servers");
  delete globalThis.OTTER_CONFIG;
});

test("a bad link or an expired token fails before any request", async () => {
  const calls = mockFetch([]);
  assert.equal(await code(join({ roomUrl: "http://h/?room=r1", config })), "invalid-link");
  assert.equal(await code(join({ roomUrl: `http://h/?room=r1#token=${jwt({ exp: 1000 })}`, config })), "token-expired");
  assert.equal(calls.length, 0);
});

test("the server's answers map to the screens: expired, invalid, unknown room, unreachable", async () => {
  const url = `http://h/?room=r1#token=${jwt({ exp: future })}`;
  mockFetch([[/rooms\/r1/, 401, { error: { code: "token-expired", message: "expired" } }]]);
  assert.equal(await code(join({ roomUrl: url, config })), "token-expired");
  mockFetch([[/rooms\/r1/, 401, { error: { code: "bad-token", message: "bad" } }]]);
  assert.equal(await code(join({ roomUrl: url, config })), "invalid-link");
  mockFetch([[/rooms\/r1/, 404, { error: { code: "not-found", message: "no" } }]]);
  assert.equal(await code(join({ roomUrl: url, config })), "room-not-found");
  mockFetch([]);
  assert.equal(await code(join({ roomUrl: url, config })), "network");
});

test("ICE servers are fetched with the room token; relay-only without TURN is refused", async () => {
  const token = jwt({ exp: future });
  const calls = mockFetch([
    [/ice-servers$/, 200, { iceServers: [{ urls: ["stun:127.0.0.1:3478"] }], ttlSeconds: 3600 }],
    [/rooms\/r1$/, 200, { roomId: "r1", maxPeers: 2 }],
  ]);
  assert.equal(await code(join({ roomUrl: `http://h/?room=r1&relay=1#token=${token}`, config })), "bad-config");
  const ice = calls.find((c) => c.url.endsWith("/rooms/r1/ice-servers"));
  assert.ok(ice, calls.map((c) => c.url).join(","));
  assert.equal(ice.url, "http://127.0.0.1:9/rooms/r1/ice-servers");
  assert.equal(ice.auth, `Bearer ${token}`);
});

test("prepare(): the link's checks ahead of join, with join's error codes and a bounded life", async () => {
  const token = jwt({ exp: future });
  assert.equal(await code(prepare({ roomUrl: `http://h/?room=r1#token=${jwt({ exp: 1000 })}`, config })), "token-expired");
  mockFetch([[/rooms\/r1/, 404, { error: { code: "not-found", message: "no" } }]]);
  assert.equal(await code(prepare({ roomId: "r1", token, config })), "room-not-found");
  const calls = mockFetch([
    [/ice-servers$/, 200, { iceServers: [{ urls: ["turn:127.0.0.1:3478"], username: "u", credential: "c" }], ttlSeconds: 600 }],
    [/rooms\/r1$/, 200, { roomId: "r1", maxPeers: 4 }],
  ]);
  const p = await prepare({ roomUrl: `http://h/?room=r1&relay=1#token=${token}`, config });
  assert.equal(calls.length, 2);
  assert.equal(p.room.maxPeers, 4);
  assert.equal(p.iceServers[0].username, "u");
  assert.equal(p.relay, true);
  assert.equal(p.maxAgeMs, 300000, "half the ICE credentials' 600 s");
  assert.ok(Object.isFrozen(p));
});

test("join({prepared}): no checks repeated; a refused socket is still explained; other or stale preparations are not used", async () => {
  const token = jwt({ exp: future });
  globalThis.MediaStream ??= class { getTracks() { return []; } getAudioTracks() { return []; } getVideoTracks() { return []; } };
  mockFetch([[/ice-servers$/, 200, { iceServers: [], ttlSeconds: 3600 }], [/rooms\/r1$/, 200, { roomId: "r1", maxPeers: 2 }]]);
  const prepared = await prepare({ roomId: "r1", token, config });
  let calls;
  // a socket the server refuses (as it does for a revoked link), logged with the fetches
  globalThis.WebSocket = class {
    static OPEN = 1;
    constructor(url) { calls.push({ url: `socket ${url}` }); this.readyState = 0; setTimeout(() => { this.readyState = 3; this.onclose && this.onclose({ code: 1006 }); }, 5); }
    send() {}
    close() {}
  };
  try {
    calls = mockFetch([[/rooms\/r1/, 401, { error: { code: "bad-token", message: "revoked" } }]]);
    assert.equal(await code(join({ roomId: "r1", token, config, prepared, media: false })), "invalid-link");
    assert.ok(!calls.some((c) => c.url.endsWith("/ice-servers")), "a fresh preparation's checks are not repeated");
    assert.ok(calls.some((c) => c.url.endsWith("/rooms/r1")), "the refusal is explained by asking the server");
    // a preparation for another room, or a stale one, is not used: checks first
    calls = mockFetch([[/rooms\/r2/, 404, { error: { code: "not-found", message: "no" } }]]);
    assert.equal(await code(join({ roomId: "r2", token, config, prepared, media: false })), "room-not-found");
    assert.ok(calls.filter((c) => !c.url.startsWith("socket")).every((c) => c.url.includes("/rooms/r2")));
    const stale = { ...prepared, preparedAt: Date.now() - prepared.maxAgeMs - 1 };
    calls = mockFetch([[/rooms\/r1/, 404, { error: { code: "not-found", message: "gone" } }]]);
    assert.equal(await code(join({ roomId: "r1", token, config, prepared: stale, media: false })), "room-not-found");
    assert.ok(calls.some((c) => c.url.endsWith("/ice-servers")), "a stale preparation's checks run again");
  } finally {
    delete globalThis.WebSocket;
  }
});

// ------------------------------------------------------------ switchDevice

import { Call } from "../../Templates/webapp/otter.js";
import { addPeer, makeSpares, restartOnFirstGlare, FIRST_ANSWER_DELAY_MS } from "../../Templates/webapp/peers.js";
import { onServerFrame } from "../../Templates/webapp/membership.js";

class FakeTrack {
  constructor(kind, label, log) { this.kind = kind; this.label = label; this.enabled = true; this.readyState = "live"; this.log = log; }
  stop() { this.readyState = "ended"; this.log.push(`stop ${this.label}`); }
}
class FakeStream {
  constructor(tracks) { this.tracks = [...tracks]; }
  getTracks() { return [...this.tracks]; }
  getAudioTracks() { return this.tracks.filter((t) => t.kind === "audio"); }
  getVideoTracks() { return this.tracks.filter((t) => t.kind === "video"); }
  addTrack(t) { this.tracks.push(t); }
  removeTrack(t) { this.tracks = this.tracks.filter((x) => x !== t); }
}
function fakeCall(log) {
  const cam = new FakeTrack("video", "cam0", log), mic = new FakeTrack("audio", "mic0", log);
  const call = new Call({ config, roomId: "r1", token: "t", room: {}, iceServers: [], relay: false, stream: new FakeStream([mic, cam]), name: "", stopTracksOnLeave: true });
  const sender = (peer, kind) => ({ track: kind === "audio" ? mic : cam, async replaceTrack(t) { await null; this.track = t; log.push(`replace ${peer} ${kind} ${t && t.label}`); } });
  for (const id of ["p1", "p2"]) call.peersById.set(id, { id, audioTx: { sender: sender(id, "audio") }, videoTx: { sender: sender(id, "video") } });
  return { call, cam, mic };
}
function fakeDevices(log, asked) {
  Object.defineProperty(globalThis, "navigator", {
    configurable: true,
    value: { mediaDevices: { async getUserMedia(c) {
      asked.push(c);
      const kind = c.video ? "video" : "audio";
      const id = c[kind].deviceId.exact;
      if (id === "missing") throw Object.assign(new Error("no such device"), { name: "OverconstrainedError" });
      return new FakeStream([new FakeTrack(kind, id, log)]);
    } } },
  });
}

test("switchDevice: every peer's sender gets the new camera before the old one is stopped; camera-off stays off", async () => {
  const log = [], asked = [];
  fakeDevices(log, asked);
  const { call, cam, mic } = fakeCall(log);
  call.cameraOn = false;
  const t = await call.switchDevice("videoinput", "cam1");
  assert.deepEqual(asked, [{ video: { deviceId: { exact: "cam1" } } }]);
  assert.equal(t.label, "cam1");
  assert.equal(t.enabled, false, "the camera was off and stays off");
  assert.deepEqual(call.localStream.getVideoTracks(), [t]);
  assert.deepEqual(call.localStream.getAudioTracks(), [mic]);
  for (const p of call.peersById.values()) { assert.equal(p.videoTx.sender.track, t); assert.equal(p.audioTx.sender.track, mic); }
  assert.equal(cam.readyState, "ended");
  assert.equal(log.at(-1), "stop cam0", `the old camera must stop last: ${log}`);
  assert.deepEqual(log.slice(0, 2).sort(), ["replace p1 video cam1", "replace p2 video cam1"]);
});

test("switchDevice: a microphone switch replaces the audio senders; during a screen share the camera is only swapped locally", async () => {
  const log = [], asked = [];
  fakeDevices(log, asked);
  const { call, cam } = fakeCall(log);
  const m = await call.switchDevice("audio", "mic1");
  for (const p of call.peersById.values()) { assert.equal(p.audioTx.sender.track, m); assert.equal(p.videoTx.sender.track, cam); }
  call.screenTrack = new FakeTrack("video", "screen", log);
  const c = await call.switchDevice("video", "cam1");
  assert.deepEqual(call.localStream.getVideoTracks(), [c], "stopScreen will send the new camera");
  for (const p of call.peersById.values()) assert.equal(p.videoTx.sender.track, cam, "the screen share goes on");
});

test("switchDevice: a device that cannot be opened changes nothing and is a media-not-found error", async () => {
  const log = [], asked = [];
  fakeDevices(log, asked);
  const { call, cam } = fakeCall(log);
  assert.equal(await code(call.switchDevice("video", "missing")), "media-not-found");
  assert.deepEqual(call.localStream.getVideoTracks(), [cam]);
  assert.equal(cam.readyState, "live");
  assert.deepEqual(log, []);
});

// ------------------------------------------------------------ offers crossing

class FakePC {
  static made = [];
  constructor(config) {
    this.config = config;
    this.signalingState = "stable"; this.remoteDescription = null; this.currentLocalDescription = null;
    this.localDescription = null; this.closed = false; this.transceivers = [];
    FakePC.made.push(this);
  }
  addTransceiver(kind) { const t = { kind, sender: {}, receiver: { track: { kind } }, mid: null }; this.transceivers.push(t); return t; }
  getTransceivers() { return this.transceivers; }
  createDataChannel() { return { readyState: "connecting" }; }
  close() { this.closed = true; this.signalingState = "closed"; }
}

function glareCall(myId) {
  globalThis.RTCPeerConnection = FakePC;
  FakePC.made = [];
  const call = new Call({ config, roomId: "r1", token: "t", room: {}, iceServers: [], relay: false, stream: new FakeStream([]), name: "", stopTracksOnLeave: true });
  call.peerId = myId;
  const events = [];
  call._held = null;
  for (const type of ["peer-joined", "peer-left"]) call.on(type, (d) => events.push(`${type} ${d.peerId}`));
  const peer = addPeer(call, "m");
  return { call, peer, events };
}
const offer = { description: { type: "offer", sdp: "v=0" } };

test("the SDK's answering connection holds its first answer up to FIRST_ANSWER_DELAY_MS while no non-host candidate has come (TURN/TCP check-order race, issue 20)", async () => {
  const { call } = glareCall("a");
  const peer = addPeer(call, "z", { answering: true });
  const pc = peer.pc, at = {};
  const t0 = performance.now();
  pc.setRemoteDescription = async (d) => { at.srd = performance.now() - t0; pc.remoteDescription = d; pc.signalingState = "have-remote-offer"; };
  pc.setLocalDescription = async () => { at.sld = performance.now() - t0; pc.localDescription = { type: "answer", sdp: "a" }; pc.signalingState = "stable"; };
  const sent = [];
  call.signaling = { open: true, send: (text) => sent.push(JSON.parse(text)), probe() {} };
  await peer.neg.onSignal(offer);
  assert.ok(FIRST_ANSWER_DELAY_MS >= 10, "a hold long enough to matter in the lab (15 ms measured)");
  assert.ok(at.sld - at.srd >= FIRST_ANSWER_DELAY_MS - 1, `answer set ${at.sld - at.srd} ms after the offer`);
  assert.equal(sent.at(-1).data.description.type, "answer");
  peer.neg.close();
});

test("offers crossing on a new connection: the polite side starts over with a connection made for the remote offer", () => {
  const { peer, call, events } = glareCall("a"); // "a" < "m": polite
  const first = peer.pc;
  first.signalingState = "have-local-offer";
  assert.equal(restartOnFirstGlare(call, peer, offer), true);
  assert.ok(first.closed, "the connection with the crossed offer is closed");
  assert.notEqual(peer.pc, first);
  assert.equal(peer.pc.transceivers.length, 0, "the new one takes its transceivers from the offer");
  assert.equal(peer.neg.pc, peer.pc);
  assert.equal(call.peersById.get("m"), peer, "same peer, same tile: no peer-left/peer-joined");
  assert.deepEqual(events, ["peer-joined m"]);
});

test("offers crossing: the impolite side or a connection already negotiated keep their connection", () => {
  const impolite = glareCall("z"); // "z" > "m"
  impolite.peer.pc.signalingState = "have-local-offer";
  assert.equal(restartOnFirstGlare(impolite.call, impolite.peer, offer), false, "the impolite side ignores the offer");
  const negotiated = glareCall("a");
  negotiated.peer.pc.signalingState = "have-local-offer";
  negotiated.peer.pc.currentLocalDescription = { type: "answer" };
  assert.equal(restartOnFirstGlare(negotiated.call, negotiated.peer, offer), false, "renegotiation glare rolls back as usual");
  const making = glareCall("a");
  making.peer.neg.makingOffer = true; // setLocalDescription still running
  assert.equal(restartOnFirstGlare(making.call, making.peer, offer), true);
  assert.equal(restartOnFirstGlare(making.call, making.peer, { candidate: null }), false);
  assert.equal(restartOnFirstGlare(making.call, making.peer, offer), false, "a connection made for the offer just answers");
});

test("an offer that comes before this side's own offer is made: either side starts over rather than answering, then offering again", () => {
  for (const me of ["a", "z"]) {
    const { call, peer } = glareCall(me); // own transceivers added, negotiationneeded not yet handled
    const first = peer.pc;
    assert.equal(restartOnFirstGlare(call, peer, offer), true, me);
    assert.ok(first.closed);
    assert.equal(peer.neg.stats.rollbacks, 0, "not counted as a collision");
  }
});

// ------------------------------------------------------------ ICE candidate pool

test("no ICE candidate pool: not on the spares made at join(), not on the connection made to answer a newcomer", () => {
  // Measured (docs/BENCHMARKS.md, issue 20): a pooled spare cost ~180 ms of
  // first-frame time on TURN/TCP paths, and Chromium did not use the
  // answering connection's pool at all.
  const { call } = glareCall("a");
  FakePC.made = [];
  makeSpares(call, 2);
  assert.equal(FakePC.made.length, 2);
  for (const pc of FakePC.made) {
    assert.equal(pc.config.iceCandidatePoolSize ?? 0, 0, "spare");
    assert.equal(pc.config.bundlePolicy, "max-bundle");
  }
  const spare = FakePC.made[0];
  const offering = addPeer(call, "n"); // the welcome's peers: this side offers on a spare
  assert.equal(offering.pc, spare, "the first offer is made on a spare");
  call._spares = []; // the welcome drops the rest
  onServerFrame(call, { type: "peer-joined", peerId: "p" });
  const answering = call.peersById.get("p");
  clearTimeout(answering.offerTimer);
  assert.notEqual(answering.pc, spare);
  assert.equal(answering.pc.config.iceCandidatePoolSize ?? 0, 0, "answering connection");
  assert.equal(answering.pc.config.bundlePolicy, "max-bundle");
});

test("a link check the network never answers is tried once more, then fails as network; an HTTP error is not retried", async (t) => {
  const { checkRoom } = await import("../../Templates/webapp/rest.js");
  const token = jwt({ exp: future });
  // A fetch that never answers unless told to (it honours the abort signal, as a browser's does).
  function hangingFetch(answerFrom) {
    const calls = [];
    globalThis.fetch = (url, init = {}) => {
      calls.push(String(url));
      const n = calls.filter((u) => u === String(url)).length;
      if (n >= answerFrom) {
        const body = /ice-servers$/.test(String(url)) ? { iceServers: [{ urls: ["stun:127.0.0.1:3478"] }] } : { roomId: "r1", maxPeers: 2 };
        return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
      }
      return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
    };
    return calls;
  }
  // (Node's AbortSignal.timeout does not keep the process alive by itself)
  const alive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(alive));
  // the first request of each is lost: the second answers
  let calls = hangingFetch(2);
  const ok = await checkRoom(resolveConfig(config), "r1", token, false, 50);
  assert.equal(ok.room.maxPeers, 2);
  assert.equal(ok.iceServers[0].urls[0], "stun:127.0.0.1:3478");
  assert.equal(calls.length, 4);
  // never answered: the room check fails as "network" after two tries (the ICE servers fall back to config's STUN)
  calls = hangingFetch(Infinity);
  const t0 = Date.now();
  await assert.rejects(checkRoom(resolveConfig(config), "r1", token, false, 50), (e) => e instanceof OtterError && e.code === "network");
  assert.equal(calls.filter((u) => u.endsWith("/rooms/r1")).length, 2);
  assert.ok(Date.now() - t0 < 2000);
  // the server said no: asked once
  calls = mockFetch([[/rooms\/r1/, 503, { error: { code: "busy", message: "busy" } }]]);
  assert.equal(await code(checkRoom(resolveConfig(config), "r1", token, false, 50)), "network");
  assert.equal(calls.filter((c) => c.url.endsWith("/rooms/r1")).length, 1);
});

test("a DTLS certificate the browser never makes is given up (null: the browser makes one per connection)", async () => {
  const { newCertificate } = await import("../../Templates/webapp/prepare.js");
  const saved = globalThis.RTCPeerConnection;
  try {
    globalThis.RTCPeerConnection = { generateCertificate: () => new Promise(() => {}) };
    assert.equal(await newCertificate(30), null);
    globalThis.RTCPeerConnection = { generateCertificate: async () => "cert" };
    assert.equal(await newCertificate(30), "cert");
    globalThis.RTCPeerConnection = { generateCertificate: async () => { throw new Error("no"); } };
    assert.equal(await newCertificate(30), null);
  } finally {
    globalThis.RTCPeerConnection = saved;
  }
});
