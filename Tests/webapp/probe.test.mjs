// prepare()'s probe of the network: a call relays only when UDP cannot get
// out while TURN over TCP or TLS can (a TCP-only firewall). The browser's
// candidates are played by a fake RTCPeerConnection: what they are and when
// they come is what the probe decides on, and no RTCPeerConnection runs in
// node. The lab's browser tests (Tests/e2e, udp-blocked, tcp443, tls) and
// Scripts/bench-calls run the real one.
import test from "node:test";
import assert from "node:assert/strict";
import { probeUdpBlocked } from "../../Templates/webapp/prepare.js";
import { rtcConfig } from "../../Templates/webapp/peers.js";

const servers = [{ urls: ["turn:203.0.113.1:3478?transport=udp", "turn:203.0.113.1:3478?transport=tcp", "turn:203.0.113.1:443?transport=tcp", "stun:203.0.113.1:3478"], username: "u", credential: "c" }];

/** A connection that emits `script`'s candidates [ms, {type, relayProtocol}] (null: gathering done). */
function fakePC(script) {
  const made = [];
  globalThis.RTCPeerConnection = class {
    constructor(config) { this.config = config; this.closed = false; made.push(this); }
    createDataChannel() { return {}; }
    async setLocalDescription() {
      for (const [ms, c] of script) setTimeout(() => { if (!this.closed && this.onicecandidate) this.onicecandidate({ candidate: c }); }, ms);
    }
    close() { this.closed = true; }
  };
  return made;
}

const host = { type: "host", relayProtocol: undefined };
const srflx = { type: "srflx" };
const relay = (p) => ({ type: "relay", relayProtocol: p });

test("only a TURN/TCP relay candidate, nothing over UDP: UDP is blocked", async () => {
  const made = fakePC([[1, host], [80, relay("tcp")]]);
  const t = Date.now();
  assert.equal(await probeUdpBlocked(servers), true);
  assert.ok(Date.now() - t >= 400, "waits for a late UDP candidate before saying so");
  assert.ok(made[0].closed, "the probe's connection is closed");
  assert.deepEqual(made[0].config.iceServers, servers);
});

test("TURN over TLS only: UDP is blocked", async () => {
  fakePC([[1, host], [90, relay("tls")]]);
  assert.equal(await probeUdpBlocked(servers), true);
});

test("a server-reflexive or UDP relay candidate, before or after the TCP one: UDP gets out", async () => {
  fakePC([[1, host], [30, srflx], [80, relay("tcp")]]);
  assert.equal(await probeUdpBlocked(servers), false);
  fakePC([[1, host], [70, relay("tcp")], [200, relay("udp")]]);
  assert.equal(await probeUdpBlocked(servers), false, "a UDP relay candidate 130 ms after the TCP one");
  fakePC([[1, host], [60, relay("udp")], [80, relay("tcp")], [90, null]]);
  assert.equal(await probeUdpBlocked(servers), false);
});

test("no relay candidate at all, or gathering done with only host candidates: not blocked (nothing to relay through)", async () => {
  fakePC([[1, host], [20, null]]);
  assert.equal(await probeUdpBlocked(servers), false);
});

test("ICE servers without a UDP route, or without a TCP one: no probe, not blocked", async () => {
  const made = fakePC([[1, host], [80, relay("tcp")]]);
  assert.equal(await probeUdpBlocked([{ urls: ["turn:h:443?transport=tcp", "turns:h:5349?transport=tcp"] }]), false);
  assert.equal(await probeUdpBlocked([{ urls: ["turn:h:3478", "stun:h:3478"] }]), false);
  assert.equal(made.length, 0);
});

test("a call from a TCP-only network gathers relay candidates only; otherwise all, unless relay is forced", () => {
  const base = { iceServers: servers, certificate: null };
  assert.equal(rtcConfig({ ...base, relay: false, tcpOnly: true }).iceTransportPolicy, "relay");
  assert.equal(rtcConfig({ ...base, relay: false, tcpOnly: false }).iceTransportPolicy, "all");
  assert.equal(rtcConfig({ ...base, relay: true, tcpOnly: false }).iceTransportPolicy, "relay");
});
