import test from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Sha256, sha256Hex } from "../../Templates/webapp/sha256.js";

test("FIPS 180-4 / NIST vectors", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  assert.equal(sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  const h = new Sha256();
  const block = new TextEncoder().encode("a".repeat(1000));
  for (let i = 0; i < 1000; i++) h.update(block);
  assert.equal(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"); // one million 'a'
});

test("incremental updates at every split agree with a one-shot hash", () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 70000]) {
    const data = randomBytes(n);
    const want = createHash("sha256").update(data).digest("hex");
    assert.equal(sha256Hex(data), want, `one-shot n=${n}`);
    const h = new Sha256();
    let i = 0, step = 1;
    while (i < n) { h.update(data.subarray(i, i + step)); i += step; step = (step * 7 + 3) % 97 + 1; }
    assert.equal(h.hex(), want, `pieces n=${n}`);
  }
});

test("accepts ArrayBuffer and views with offsets; refuses reuse after digest", () => {
  const buf = new Uint8Array([0, 0, 97, 98, 99, 0]);
  assert.equal(sha256Hex(buf.subarray(2, 5)), sha256Hex("abc"));
  assert.equal(sha256Hex(buf.slice(2, 5).buffer), sha256Hex("abc"));
  const h = new Sha256().update("x");
  h.digest();
  assert.throws(() => h.update("y"));
  assert.throws(() => h.update(42));
});
