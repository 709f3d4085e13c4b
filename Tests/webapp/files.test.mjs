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

// ------------------------------------------------ large files: streaming, memory

// A file that exists only as a generator: slice(a, b).arrayBuffer() makes those
// bytes on demand (xorshift keyed by position, so every MiB differs), and it
// records every read. Nothing holds the whole file, so whatever memory the
// transfer uses is the sender's buffers plus what the receiver keeps.
class SyntheticFile {
  constructor(size, name = "big.bin") { this.size = size; this.name = name; this.type = "application/octet-stream"; this.reads = []; }
  static bytes(start, end) {
    const out = new Uint8Array(end - start);
    for (let i = 0; i < out.length; ) {
      const pos = start + i;
      const block = Math.floor(pos / 4096);
      let x = (block * 2654435761 + 1) >>> 0 || 1;
      const blockEnd = Math.min(out.length, (block + 1) * 4096 - start);
      // regenerate the block's stream up to pos, then fill
      for (let j = block * 4096; j < blockEnd + start; j++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        if (j >= pos) out[j - start] = x & 0xff;
      }
      i = blockEnd;
    }
    return out;
  }
  slice(start = 0, end = this.size) {
    end = Math.min(end, this.size);
    this.reads.push([start, end]);
    return { size: end - start, arrayBuffer: async () => SyntheticFile.bytes(start, end).buffer };
  }
}

test("synthetic file: slices agree with each other wherever they are cut", () => {
  const whole = SyntheticFile.bytes(0, 3 * 4096 + 100);
  const parts = [[0, 1], [1, 4095], [4095, 4097], [4097, 3 * 4096 + 100]].map(([a, b]) => SyntheticFile.bytes(a, b));
  assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
  assert.notDeepEqual(SyntheticFile.bytes(0, 4096), SyntheticFile.bytes(4096, 8192));
});

test("a large file streams: read in bounded slices, received into Blobs, never held twice", { timeout: 600000 }, async () => {
  // OTTER_BIG_FILE_MIB=1024 runs the full 1 GiB (about 4x as long).
  const mib = Number(process.env.OTTER_BIG_FILE_MIB || 256);
  const size = mib * 1024 * 1024 + 12345;
  const { READ_SIZE } = await import("../../Templates/webapp/files.js");
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");

  // the expected hash, streamed the same way (native crypto)
  const want = createHash("sha256");
  for (let off = 0; off < size; off += READ_SIZE) want.update(SyntheticFile.bytes(off, Math.min(size, off + READ_SIZE)));
  const wantHex = want.digest("hex");

  // Every Blob made while the file moves: how many raw bytes (not Blob parts)
  // each one copies in. Reassembly must gather bounded batches into Blobs and
  // make the final Blob out of Blobs, not copy the file again at the end.
  const RealBlob = globalThis.Blob;
  const blobCopies = [];
  globalThis.Blob = class extends RealBlob {
    constructor(parts = [], opts) {
      super(parts, opts);
      blobCopies.push(parts.reduce((n, p) => n + (p instanceof RealBlob ? 0 : typeof p === "string" ? p.length : p.byteLength), 0));
    }
  };
  const slack = 48 * 1024 * 1024;
  gc();
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0, samples = 0, worst = -Infinity;
  const sample = (received) => {
    gc();
    samples++;
    const alive = process.memoryUsage().arrayBuffers - base;
    peak = Math.max(peak, alive);
    worst = Math.max(worst, alive - received);
  };

  const file = new SyntheticFile(size);
  const [tx, rx] = channelPair();
  const r = new FileReceiver({ reply: (m) => rx.send(m) });
  let done = null, n = 0;
  rx.addEventListener("message", (ev) => {
    const out = r.handle(ev.data);
    if (out.event === "done") done = out.detail;
    // every 32 MiB: how much memory is alive now
    if (out.event === "progress" && ++n % 2048 === 0) sample(r.received);
  });
  let res;
  try {
    res = await sendFileOnChannel(file, tx).done;
  } finally {
    globalThis.Blob = RealBlob;
  }
  sample(size);

  assert.equal(res.sha256, wantHex);
  assert.ok(done, "the receiver finished");
  assert.equal(done.sha256, wantHex);
  assert.ok(done.blob instanceof Blob);
  assert.equal(done.blob.size, size);
  // every byte was read exactly once, in slices of at most READ_SIZE, in order
  assert.equal(file.reads.length, Math.ceil(size / READ_SIZE));
  let expect = 0;
  for (const [a, b] of file.reads) { assert.equal(a, expect); assert.ok(b - a <= READ_SIZE); expect = b; }
  assert.equal(expect, size);
  // what is alive at any moment is what has arrived, once, plus bounded
  // buffers; a second copy (a big ArrayBuffer, a concatenation) would be 2x
  assert.ok(samples >= mib / 32, `only ${samples} samples`);
  assert.ok(worst <= slack, `up to ${(worst / 2 ** 20).toFixed(0)} MiB alive beyond what had arrived`);
  assert.ok(peak <= size + slack, `peak ${(peak / 2 ** 20).toFixed(0)} MiB alive for a ${mib} MiB file`);
  // the received bytes went into Blobs once, in bounded batches
  assert.equal(blobCopies.reduce((a, b) => a + b, 0), size, "bytes copied into Blobs");
  assert.ok(Math.max(...blobCopies) <= 8 * 1024 * 1024 + CHUNK_SIZE, `one Blob copied ${Math.max(...blobCopies)} raw bytes`);
  // and the Blob holds the right bytes, read back as a stream
  const back = createHash("sha256");
  for await (const part of done.blob.stream()) back.update(part);
  assert.equal(back.digest("hex"), wantHex);
  console.log(`# ${mib} MiB: peak ${(peak / 2 ** 20).toFixed(0)} MiB alive, at most ${(worst / 2 ** 20).toFixed(1)} MiB beyond what had arrived (${samples} samples, ${blobCopies.length} Blobs)`);
});
