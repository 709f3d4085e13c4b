import test from "node:test";
import assert from "node:assert/strict";
import * as P from "../../Templates/webapp/protocol.js";

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims) => `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;

test("client frames carry an action field", () => {
  assert.deepEqual(JSON.parse(P.encodeJoin()), { action: "join" });
  assert.deepEqual(JSON.parse(P.encodePing()), { action: "ping" });
  const d = { description: { type: "offer", sdp: "v=0" } };
  assert.deepEqual(JSON.parse(P.encodeSignal("p2", d)), { action: "signal", to: "p2", data: d });
  assert.throws(() => P.encodeSignal("", d));
  assert.throws(() => P.encodeSignal("p2", "text"));
  assert.throws(() => P.encodeSignal("p2", { description: { type: "offer", sdp: "x".repeat(70000) } }), RangeError);
  // the servers' limit (API Gateway's 32 KB, read as 32,000 bytes): exactly the limit passes, one more byte does not
  assert.equal(P.MAX_FRAME_BYTES, 32000);
  const overhead = P.encodeSignal("p2", { sdp: "" }).length;
  assert.equal(P.encodeSignal("p2", { sdp: "x".repeat(32000 - overhead) }).length, 32000);
  assert.throws(() => P.encodeSignal("p2", { sdp: "x".repeat(32001 - overhead) }), { name: "RangeError", message: /32000 bytes/ });
});

test("server frames are validated", () => {
  assert.deepEqual(P.parseServerFrame('{"type":"welcome","peerId":"a","peers":["b","c"]}'), { type: "welcome", peerId: "a", peers: ["b", "c"] });
  const w = P.parseServerFrame('{"type":"welcome","peerId":"a","peers":["a","b"],"iceServers":[{"urls":["stun:x"]}]}');
  assert.deepEqual(w.peers, ["b"], "self is never a remote peer");
  assert.deepEqual(w.iceServers, [{ urls: ["stun:x"] }]);
  assert.deepEqual(P.parseServerFrame('{"type":"peer-joined","peerId":"b"}'), { type: "peer-joined", peerId: "b" });
  assert.deepEqual(P.parseServerFrame('{"type":"peer-left","peerId":"b"}'), { type: "peer-left", peerId: "b" });
  assert.deepEqual(P.parseServerFrame('{"type":"signal","from":"b","data":{"candidate":null}}'), { type: "signal", from: "b", data: { candidate: null } });
  assert.deepEqual(P.parseServerFrame('{"type":"pong"}'), { type: "pong" });
  assert.deepEqual(P.parseServerFrame('{"type":"error","code":"room-full"}'), { type: "error", code: "room-full", message: "" });
  for (const bad of ["", "nope", "[]", "null", '{"type":"welcome","peerId":"a"}', '{"type":"welcome","peerId":"","peers":[]}',
    '{"type":"signal","from":"b","data":"x"}', '{"type":"signal","data":{}}', '{"type":"peer-left"}', '{"type":"error"}', '{"type":"other"}']) {
    assert.equal(P.parseServerFrame(bad), null, bad);
  }
});

test("signal data is an SDP description or an ICE candidate", () => {
  assert.deepEqual(P.parseSignalData({ description: { type: "answer", sdp: "v=0", extra: 1 } }), { description: { type: "answer", sdp: "v=0" } });
  assert.equal(P.parseSignalData({ description: { type: "pranswer", sdp: "v=0" } }), null);
  assert.equal(P.parseSignalData({ description: { type: "offer" } }), null);
  assert.deepEqual(P.parseSignalData({ candidate: null }), { candidate: null });
  assert.deepEqual(P.parseSignalData({ candidate: { candidate: "candidate:1", sdpMid: "0", sdpMLineIndex: 0 } }),
    { candidate: { candidate: "candidate:1", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: null } });
  assert.equal(P.parseSignalData({ candidate: { sdpMid: "0" } }), null);
  assert.equal(P.parseSignalData({ hello: 1 }), null);
});

test("room links: room in the query, token in the fragment, relay switch", () => {
  const t = jwt({ sub: "r1", exp: 2e9 });
  const r = P.parseRoomUrl(`http://127.0.0.1:8080/?room=r1#token=${t}`);
  assert.deepEqual(r, { roomId: "r1", token: t, relay: false, base: "http://127.0.0.1:8080/" });
  assert.equal(P.parseRoomUrl(`http://h/?room=r1&relay=1#token=${t}`).relay, true);
  assert.equal(P.parseRoomUrl(`http://h/?room=r1#token=${t}&relay=1`).relay, true);
  for (const bad of [`http://h/#token=${t}`, "http://h/?room=r1", "http://h/?room=r1#token=notajwt", `http://h/?room=r%20x#token=${t}`, "::"]) {
    assert.throws(() => P.parseRoomUrl(bad), (e) => e.code === "invalid-link", bad);
  }
});

test("JWT claims and expiry are read without verification", () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(P.isTokenExpired(jwt({ exp: now / 1000 - 1 }), now), true);
  assert.equal(P.isTokenExpired(jwt({ exp: now / 1000 + 60 }), now), false);
  assert.equal(P.isTokenExpired("garbage", now), false, "unknown is left to the server");
  assert.deepEqual(P.decodeJwtClaims(jwt({ sub: "r", maxPeers: 4 })), { sub: "r", maxPeers: 4 });
});

test("URLs: signaling socket and ICE servers", () => {
  assert.equal(P.signalSocketUrl("ws://127.0.0.1:9/signal", "a.b.c"), "ws://127.0.0.1:9/signal?token=a.b.c");
  assert.equal(P.iceServersUrl({ apiUrl: "http://h:1/api/", iceServersPath: "/rooms/{roomId}/ice-servers" }, "r 1"), "http://h:1/api/rooms/r%201/ice-servers");
  assert.equal(P.iceServersUrl({ apiUrl: "http://h:1" }, "r1"), "http://h:1/rooms/r1/ice-servers");
});

test("backoff grows, is capped and jittered", () => {
  const lo = (a) => P.backoffDelay(a, { random: () => 0 });
  const hi = (a) => P.backoffDelay(a, { random: () => 1 });
  assert.equal(hi(0), 500);
  assert.equal(hi(1), 1000);
  assert.equal(hi(3), 4000);
  assert.equal(hi(30), 10000);
  assert.equal(lo(30), 5000);
  assert.ok(lo(2) < hi(2));
});

test("peer messages", () => {
  assert.deepEqual(P.parsePeerMessage(P.encodePeerMessage({ t: "chat", text: "hi", id: "1", at: 5 })), { t: "chat", text: "hi", id: "1", at: 5 });
  assert.deepEqual(P.parsePeerMessage('{"t":"state","mic":false,"camera":true,"x":1}'), { t: "state", mic: false, camera: true });
  assert.deepEqual(P.parsePeerMessage('{"t":"hello","name":"Ann"}'), { t: "hello", name: "Ann" });
  assert.deepEqual(P.parsePeerMessage('{"t":"rekey","peerId":"p9"}'), { t: "rekey", peerId: "p9" });
  for (const bad of ['{"t":"chat","text":""}', '{"t":"nope"}', "x", '{"t":"rekey"}']) assert.equal(P.parsePeerMessage(bad), null, bad);
});
