import test from "node:test";
import assert from "node:assert/strict";
import { join, resolveConfig, OtterError } from "../../Templates/webapp/otter.js";

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
