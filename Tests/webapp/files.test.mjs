import test from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chunkBytes, chunkCount, sendFileOnChannel, FileReceiver, safeFileName, CHUNK_SIZE, HIGH_WATER } from "../../Templates/webapp/files.js";

// A pair of fake DataChannels: ordered delivery, bufferedAmount that drains
// asynchronously and fires bufferedamountlow like the browser does.
class FakeChannel extends EventTarget {
  constructor() { super(); this.readyState = "connecting"; this.bufferedAmount = 0; this.bufferedAmountLowThreshold = 0; this.peer = null; this.maxBuffered = 0; this.sentBinary = []; }
  open() { this.readyState = "open"; this.dispatchEvent(new Event("open")); }
  send(data) {
    if (this.readyState !== "open") throw new Error("InvalidStateError: not open");
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (typeof data !== "string") { if (size > CHUNK_SIZE) throw new Error("chunk too large"); this.sentBinary.push(size); }
    // copy: the browser copies on send; the sender may reuse its buffer
    const copy = typeof data === "string" ? data : new Uint8Array(data).slice().buffer;
    this.bufferedAmount += size;
    this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
    setImmediate(() => {
      const before = this.bufferedAmount;
      this.bufferedAmount -= size;
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) this.dispatchEvent(new Event("bufferedamountlow"));
      if (this.peer && this.peer.readyState === "open") { const ev = new Event("message"); ev.data = copy; this.peer.dispatchEvent(ev); }
    });
  }
  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    setImmediate(() => { this.dispatchEvent(new Event("close")); if (this.peer && this.peer.readyState !== "closed") this.peer.close(); });
  }
}
function channelPair() {
  const a = new FakeChannel(), b = new FakeChannel();
  a.peer = b; b.peer = a;
  setImmediate(() => { b.open(); a.open(); });
  return [a, b];
}
function receiverOn(ch, events) {
  const r = new FileReceiver({ reply: (m) => ch.send(m) });
  ch.addEventListener("message", (ev) => events.push(r.handle(ev.data)));
  return r;
}

test("chunking never exceeds 16 KiB and covers every byte", () => {
  const b = new Uint8Array(CHUNK_SIZE * 3 + 5);
  const parts = chunkBytes(b);
  assert.deepEqual(parts.map((p) => p.length), [CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 5]);
  assert.equal(chunkCount(b.length), 4);
  assert.equal(chunkCount(0), 0);
  assert.deepEqual(chunkBytes(new Uint8Array(0)), []);
  assert.throws(() => chunkBytes(b, 0));
});

test("a 5 MB file arrives intact with matching SHA-256, with flow control and progress", async () => {
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const want = createHash("sha256").update(data).digest("hex");
  const [tx, rx] = channelPair();
  const events = [];
  receiverOn(rx, events);
  const progress = [];
  const h = sendFileOnChannel(new Blob([data], { type: "application/x-test" }), tx, { onProgress: (s, t) => progress.push([s, t]) });
  const res = await h.done;
  assert.equal(res.sha256, want);
  const done = events.find((e) => e.event === "done");
  assert.ok(done, "receiver finished");
  assert.equal(done.detail.sha256, want);
  assert.equal(done.detail.size, data.length);
  assert.equal(done.detail.type, "application/x-test");
  const got = Buffer.from(await done.detail.blob.arrayBuffer());
  assert.ok(got.equals(data), "bytes differ");
  assert.ok(Math.max(...tx.sentBinary) <= CHUNK_SIZE);
  assert.ok(tx.maxBuffered <= HIGH_WATER + CHUNK_SIZE + 1024, `buffered ${tx.maxBuffered} beyond the high-water mark`);
  assert.deepEqual(progress.at(-1), [data.length, data.length]);
  assert.ok(progress.length > 1);
  assert.equal(events.filter((e) => e.event === "offer").length, 1);
});

test("an empty file transfers", async () => {
  const [tx, rx] = channelPair();
  const events = [];
  receiverOn(rx, events);
  const res = await sendFileOnChannel(new Blob([]), tx).done;
  assert.equal(res.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(events.find((e) => e.event === "done").detail.blob.size, 0);
});

test("a corrupted chunk is detected by the hash and the sender is told", async () => {
  const data = randomBytes(100000);
  const [tx, rx] = channelPair();
  const events = [];
  const r = new FileReceiver({ reply: (m) => rx.send(m) });
  let n = 0;
  rx.addEventListener("message", (ev) => {
    let d = ev.data;
    if (typeof d !== "string" && ++n === 3) { const c = new Uint8Array(d); c[10] ^= 1; d = c.buffer; }
    events.push(r.handle(d));
  });
  await assert.rejects(sendFileOnChannel(new Blob([data]), tx).done, (e) => e.code === "hash-mismatch");
  assert.equal(events.at(-1).event, "failed");
  assert.equal(r.error.code, "hash-mismatch");
});

test("cancel by the sender stops the transfer on both sides", async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const [tx, rx] = channelPair();
  const events = [];
  receiverOn(rx, events);
  const h = sendFileOnChannel(new Blob([data]), tx, { onProgress: (s) => { if (s >= 1024 * 1024) h.cancel(); } });
  await assert.rejects(h.done, (e) => e.code === "cancelled");
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!events.some((e) => e.event === "done"));
  assert.ok(events.some((e) => e.event === "cancelled"));
});

test("cancel by the receiver rejects the sender", async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const [tx, rx] = channelPair();
  const r = new FileReceiver({ reply: (m) => rx.send(m) });
  rx.addEventListener("message", (ev) => { const out = r.handle(ev.data); if (out.event === "progress" && out.detail.received > 500000) r.cancel(); });
  await assert.rejects(sendFileOnChannel(new Blob([data]), tx).done, (e) => e.code === "cancelled");
  assert.equal(r.state, "cancelled");
});

test("the receiver refuses lies: more bytes than announced, oversized chunks, data before meta, huge sizes", () => {
  let r = new FileReceiver();
  assert.equal(r.handle(new ArrayBuffer(10)).event, "failed");
  r = new FileReceiver();
  r.handle(JSON.stringify({ t: "meta", id: "1", name: "a", size: 5 }));
  assert.equal(r.handle(new ArrayBuffer(6)).event, "failed");
  r = new FileReceiver();
  r.handle(JSON.stringify({ t: "meta", id: "1", name: "a", size: 50000 }));
  assert.equal(r.handle(new ArrayBuffer(CHUNK_SIZE + 1)).event, "failed");
  r = new FileReceiver({ maxSize: 1000 });
  assert.equal(r.handle(JSON.stringify({ t: "meta", id: "1", name: "a", size: 1001 })).event, "failed");
  r = new FileReceiver();
  r.handle(JSON.stringify({ t: "meta", id: "1", name: "a", size: 4 }));
  r.handle(new Uint8Array([1, 2, 3]));
  assert.equal(r.handle(JSON.stringify({ t: "end", sha256: "00" })).event, "failed", "short file");
});

test("file names are made safe", () => {
  assert.equal(safeFileName("../../etc/passwd"), "__.._etc_passwd");
  assert.equal(safeFileName("a\u0000b.txt"), "a_b.txt");
  assert.equal(safeFileName(""), "file");
  assert.equal(safeFileName("report.pdf"), "report.pdf");
});
