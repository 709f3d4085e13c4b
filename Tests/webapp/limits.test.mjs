// protocol.js keeps its limits as plain constants (no JSON import, no fetch):
// these tests hold them to Templates/limits.json, the copy the servers use.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as P from "../../Templates/webapp/protocol.js";
import { join } from "../../Templates/webapp/otter.js";

const limits = JSON.parse(readFileSync(new URL("../../Templates/limits.json", import.meta.url), "utf8"));

test("the SDK refuses frames over the servers' limit", () => {
  assert.equal(P.MAX_FRAME_BYTES, limits.maxFrameBytes);
});

test("the SDK refuses a room link whose token the servers would not read", () => {
  assert.equal(P.MAX_TOKEN_CHARS, limits.token.maxChars);
  const token = (n) => `a.b.${"c".repeat(n - 4)}`;
  assert.equal(P.parseRoomUrl(`http://h/?room=r1#token=${token(limits.token.maxChars)}`).token.length, limits.token.maxChars);
  assert.throws(() => P.parseRoomUrl(`http://h/?room=r1#token=${token(limits.token.maxChars + 1)}`), { code: "invalid-link" });
});

test("the SDK words its errors as the servers do", () => {
  assert.ok(Object.keys(P.MESSAGES).length > 0);
  for (const [code, text] of Object.entries(P.MESSAGES)) {
    assert.equal(text, limits.messages[code], code);
  }
});

test("an expired link is refused, before any request, with the servers' sentence", async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const expired = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ exp: 1000 })}.c2ln`;
  const config = { apiUrl: "http://127.0.0.1:9/", signalUrl: "ws://127.0.0.1:9/signal" };
  await assert.rejects(join({ roomUrl: `http://h/?room=r1#token=${expired}`, config }),
    { code: "token-expired", message: limits.messages["token-expired"] });
});
