// The signaling client's rejoin takes its old seat over (DESIGN.md "Seat
// takeover"): it keeps the `resume` key of its last welcome and sends it,
// with the id that welcome gave it, on the next socket's join — after a socket
// that closed and after one a recovery's probe found dead (its address changed
// and the server still holds its seat). The server is a fake socket class
// here: the real servers' side is in Tests/contract/scenarios/seat_takeover.json.
import test from "node:test";
import assert from "node:assert/strict";
import { SignalingClient } from "../../Templates/webapp/signaling.js";

const config = { apiUrl: "http://127.0.0.1:9/", signalUrl: "ws://127.0.0.1:9/signal", iceServersPath: "/rooms/{roomId}/ice-servers", stunUrls: [] };
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const token = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;

/** Sockets as the server sees them: each one's frames, and a way to answer. */
class FakeSocket {
  static OPEN = 1;
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
    setTimeout(() => { this.readyState = 1; this.onopen && this.onopen(); }, 1);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  /** @param {object} frame */
  answer(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  /** The server (or the network) ends the socket. */
  drop() { this.readyState = 3; this.onclose && this.onclose({ code: 1006 }); }
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms = 5000) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await wait(5);
  assert.ok(cond(), "timed out");
}

test("a rejoin sends the last welcome's seat and resume key; a welcome without one sends a plain join", async () => {
  globalThis.WebSocket = FakeSocket;
  FakeSocket.all = [];
  const welcomes = [];
  const client = new SignalingClient({
    config, roomId: "r1", token,
    onWelcome: (m) => welcomes.push(m), onConnected() {}, onFrame() {}, onState() {}, onGaveUp() {},
    isRecovering: () => true,
  });
  try {
    const first = client.connect(true);
    await until(() => FakeSocket.all[0]?.sent.length === 1);
    assert.deepEqual(FakeSocket.all[0].sent[0], { action: "join" }, "a first join claims nothing");
    FakeSocket.all[0].answer({ type: "welcome", peerId: "p1", peers: [], resume: "K1-resume-key_________" });
    await first;

    // The socket closes: the reconnect's join claims seat p1 with its key.
    FakeSocket.all[0].drop();
    await until(() => FakeSocket.all[1]?.sent.length === 1);
    assert.deepEqual(FakeSocket.all[1].sent[0], { action: "join", resume: { peerId: "p1", key: "K1-resume-key_________" } });
    FakeSocket.all[1].answer({ type: "welcome", peerId: "p2", peers: ["q"], resume: "K2-resume-key_________" });
    await until(() => client.state === "connected");

    // A recovery's probe finds the socket silent (the network changed): the
    // rejoin claims the seat the newest welcome gave.
    client.probe();
    await until(() => FakeSocket.all[2]?.sent.length === 1);
    assert.deepEqual(FakeSocket.all[1].sent.at(-1), { action: "ping" }, "the probe");
    assert.deepEqual(FakeSocket.all[2].sent[0], { action: "join", resume: { peerId: "p2", key: "K2-resume-key_________" } });

    // A server without seat takeover sends no key: the next rejoin is a plain join.
    FakeSocket.all[2].answer({ type: "welcome", peerId: "p3", peers: ["q"] });
    await until(() => client.state === "connected");
    FakeSocket.all[2].drop();
    await until(() => FakeSocket.all[3]?.sent.length === 1);
    assert.deepEqual(FakeSocket.all[3].sent[0], { action: "join" });
    assert.deepEqual(welcomes.map((w) => w.peerId), ["p1", "p2", "p3"]);
  } finally {
    client.close();
    delete globalThis.WebSocket;
  }
});

test("the welcome's resume key is parsed (to this socket only), and a join carries a claim as given", async () => {
  const P = await import("../../Templates/webapp/protocol.js");
  assert.deepEqual(P.parseServerFrame('{"type":"welcome","peerId":"a","peers":[],"resume":"k"}'), { type: "welcome", peerId: "a", peers: [], resume: "k" });
  assert.equal("resume" in P.parseServerFrame('{"type":"welcome","peerId":"a","peers":[],"resume":5}'), false);
  assert.deepEqual(JSON.parse(P.encodeJoin({ peerId: "a", key: "k" })), { action: "join", resume: { peerId: "a", key: "k" } });
  assert.deepEqual(JSON.parse(P.encodeJoin()), { action: "join" });
});
