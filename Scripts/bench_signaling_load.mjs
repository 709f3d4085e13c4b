// Load process for Scripts/bench-signaling: many rooms of 2 peers over real
// WebSockets (RFC 6455 client on node:net, masked frames, no library, so the
// generator spends as little CPU per message as possible).
//
//   node Scripts/bench_signaling_load.mjs CONFIG.json
//
// CONFIG: {host, port, tokens: [room token…], mode: "rate"|"window"|"idle",
//          rate (msg/s for this process), window (in flight per direction),
//          warmup, duration (s), payload (bytes of padding per signal),
//          srcAddrs: ["127.0.0.1", …], connectConcurrency}
// Protocol on stdio: prints {"ready":…} when every room has both peers joined,
// waits for "go" on stdin, runs warmup + duration, stops sending, drains (at
// most 3 s), prints {"result":…}. In idle mode it prints ready, answers the
// server's pings and waits for "close". Every phase is bounded; the process
// exits by itself after at most `deadline` seconds.
import net from "node:net";
import crypto from "node:crypto";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import readline from "node:readline";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const deadline = setTimeout(() => { emit({ fatal: "deadline reached" }); process.exit(3); }, (cfg.deadline ?? 600) * 1000);
deadline.unref();

// Synchronous writes: a large result must not be cut off by process.exit.
function emit(obj) {
  if (obj.result && cfg.resultPath) { fs.writeFileSync(cfg.resultPath, JSON.stringify(obj.result)); obj = { resultPath: cfg.resultPath }; }
  fs.writeSync(1, JSON.stringify(obj) + "\n");
}
const nowUs = () => Math.round(performance.now() * 1000);

// ---- frames -----------------------------------------------------------------
const maskPool = crypto.randomBytes(1 << 16);
let maskPos = 0;

/** A masked client text frame of an ASCII string, written straight into `out` at `at`; returns the end. */
function textFrameInto(out, at, str) {
  const n = str.length;            // ASCII only (the load's own JSON)
  const hlen = n < 126 ? 6 : 8;
  out[at] = 0x81;
  if (n < 126) out[at + 1] = 0x80 | n; else { out[at + 1] = 0x80 | 126; out.writeUInt16BE(n, at + 2); }
  if (maskPos + 4 > maskPool.length) { crypto.randomFillSync(maskPool); maskPos = 0; }
  const k = at + hlen - 4;
  out[k] = maskPool[maskPos]; out[k + 1] = maskPool[maskPos + 1]; out[k + 2] = maskPool[maskPos + 2]; out[k + 3] = maskPool[maskPos + 3];
  maskPos += 4;
  const p = at + hlen;
  out.latin1Write(str, p, n);
  for (let i = 0; i < n; i++) out[p + i] ^= out[k + (i & 3)];
  return p + n;
}

/** A masked client text (0x1) or pong (0xA) frame. */
function frame(payload, opcode = 0x1) {
  const n = payload.length;
  const hlen = n < 126 ? 6 : n < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(hlen + n);
  out[0] = 0x80 | opcode;
  if (n < 126) { out[1] = 0x80 | n; }
  else if (n < 65536) { out[1] = 0x80 | 126; out.writeUInt16BE(n, 2); }
  else { out[1] = 0x80 | 127; out.writeUInt32BE(0, 2); out.writeUInt32BE(n, 6); }
  if (maskPos + 4 > maskPool.length) { crypto.randomFillSync(maskPool); maskPos = 0; }
  const m0 = maskPool[maskPos], m1 = maskPool[maskPos + 1], m2 = maskPool[maskPos + 2], m3 = maskPool[maskPos + 3];
  maskPos += 4;
  const k = hlen - 4;
  out[k] = m0; out[k + 1] = m1; out[k + 2] = m2; out[k + 3] = m3;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    out[hlen + i] = payload[i] ^ m0; out[hlen + i + 1] = payload[i + 1] ^ m1;
    out[hlen + i + 2] = payload[i + 2] ^ m2; out[hlen + i + 3] = payload[i + 3] ^ m3;
  }
  for (; i < n; i++) out[hlen + i] = payload[i] ^ (i % 4 === 0 ? m0 : i % 4 === 1 ? m1 : i % 4 === 2 ? m2 : m3);
  return out;
}

// ---- latency histogram: 10 µs buckets up to 2 s, then an overflow bucket ----
const BUCKET_US = 10, NBUCKETS = 200000;
const hist = new Uint32Array(NBUCKETS + 1);
let maxUs = 0;

// ---- state -------------------------------------------------------------------
const T_KEY = Buffer.from('"t":');
let phase = "setup";            // setup → ready → run → drain → done
let tStart = 0, tMeasure = 0, tEnd = 0;
const stats = { sent: 0, received: 0, sentInWindow: 0, recvInWindow: 0, latencySamples: 0,
                errors: {}, unexpectedCloses: 0, socketErrors: 0, pingsAnswered: 0, otherFrames: 0 };

class Conn {
  constructor(token, src) {
    this.token = token; this.src = src;
    this.sock = null; this.buf = null; this.upgraded = false;
    this.peerId = null; this.partner = null; this.waiters = [];
    this.prefix = null; this.suffix = null; this.inflight = 0; this.closed = false;
  }
  open() {
    return new Promise((resolve, reject) => {
      const opts = { host: cfg.host, port: cfg.port, noDelay: true };
      if (this.src) opts.localAddress = this.src;
      const s = net.connect(opts);
      this.sock = s;
      const key = crypto.randomBytes(16).toString("base64");
      s.once("connect", () => {
        s.write(`GET /signal?token=${this.token} HTTP/1.1\r\nHost: ${cfg.host}:${cfg.port}\r\n` +
                `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
      s.on("data", (chunk) => this.onData(chunk, resolve, reject));
      s.on("error", (e) => { stats.socketErrors++; if (!this.upgraded) reject(e); });
      s.on("close", () => {
        if (!this.closed && phase !== "done") stats.unexpectedCloses++;
        this.closed = true;
        if (!this.upgraded) reject(new Error("closed before upgrade"));
      });
    });
  }
  onData(chunk, resolve, reject) {
    let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = null;
    if (!this.upgraded) {
      const end = b.indexOf("\r\n\r\n");
      if (end < 0) { this.buf = b; return; }
      const head = b.toString("latin1", 0, end);
      if (!head.startsWith("HTTP/1.1 101")) { reject(new Error("upgrade refused: " + head.split("\r\n")[0])); this.sock.destroy(); return; }
      this.upgraded = true;
      resolve();
      b = b.subarray(end + 4);
    }
    let off = 0, delivered = 0;
    const now = phase === "run" || phase === "drain" ? nowUs() : 0;
    while (b.length - off >= 2) {
      const op = b[off] & 0x0f;
      let len = b[off + 1] & 0x7f, h = 2;
      if (len === 126) { if (b.length - off < 4) break; len = b.readUInt16BE(off + 2); h = 4; }
      else if (len === 127) { if (b.length - off < 10) break; len = b.readUInt32BE(off + 6); h = 10; }
      if (b.length - off < h + len) break;
      const ps = off + h, pe = ps + len;
      off = pe;
      if (op === 0x1) {
        const ti = b.indexOf(T_KEY, ps);
        if (ti >= 0 && ti < pe && this.partner) {
          // a relayed signal: read the integer after "t":
          let i = ti + 4, t = 0;
          while (i < pe) { const c = b[i]; if (c < 48 || c > 57) break; t = t * 10 + (c - 48); i++; }
          stats.received++;
          delivered++;
          if (now >= tMeasure && now < tEnd) {
            stats.recvInWindow++;
            const lat = now - t;
            if (t >= tMeasure) {
              const k = Math.floor(lat / BUCKET_US);
              hist[k < NBUCKETS ? (k < 0 ? 0 : k) : NBUCKETS]++;
              if (lat > maxUs) maxUs = lat;
              stats.latencySamples++;
            }
          }
        } else {
          this.onMessage(JSON.parse(b.toString("utf8", ps, pe)));
        }
      } else if (op === 0x9) {
        this.sock.write(frame(b.subarray(ps, pe), 0xA));
        stats.pingsAnswered++;
      } else if (op === 0x8) {
        this.closed = true;
        if (phase !== "done") stats.unexpectedCloses++;
        this.sock.end();
      }
    }
    if (off < b.length) this.buf = b.subarray(off);
    if (delivered && mode === "window" && (phase === "run") && this.partner) {
      this.partner.sendSignals(delivered);
    }
  }
  onMessage(m) {
    if (m.type === "error") {
      stats.errors[m.code] = (stats.errors[m.code] ?? 0) + 1;
    } else if (m.type !== "welcome" && m.type !== "peer-joined") {
      stats.otherFrames++;
    }
    const w = this.waiters.shift();
    if (w) w(m);
  }
  next() { return new Promise((r) => this.waiters.push(r)); }
  async join() {
    const p = this.next();
    this.sock.write(frame(Buffer.from('{"action":"join"}')));
    const m = await p;
    if (m.type !== "welcome") throw new Error("join answered " + JSON.stringify(m));
    this.peerId = m.peerId;
    return m;
  }
  pairWith(other) {
    this.partner = other;
    this.prefix = `{"action":"signal","to":"${other.peerId}","data":{"t":`;
    this.suffix = `,"candidate":"${"x".repeat(cfg.payload ?? 200)}"}}`;
  }
  sendSignals(n) {
    if (this.closed) return;
    const t = nowUs();
    const text = this.prefix + t + this.suffix;
    if (text.length >= 65536) throw new Error("payload too large for this load generator");
    const size = text.length + (text.length < 126 ? 6 : 8);
    const out = Buffer.allocUnsafe(size * n);
    let at = 0;
    for (let i = 0; i < n; i++) at = textFrameInto(out, at, text);
    this.sock.write(out);
    stats.sent += n;
    if (t >= tMeasure && t < tEnd) stats.sentInWindow += n;
  }
}

const mode = cfg.mode;

async function setup() {
  const srcs = cfg.srcAddrs?.length ? cfg.srcAddrs : [null];
  const rooms = cfg.tokens.map((tok, i) => [new Conn(tok, srcs[(2 * i) % srcs.length]), new Conn(tok, srcs[(2 * i + 1) % srcs.length])]);
  let next = 0;
  const t0 = performance.now();
  const stage = cfg.stage ?? "joined";   // idle breakdown: "tcp" (connected only), "upgraded" (no join), "joined"
  async function lane() {
    while (next < rooms.length) {
      const [a, b] = rooms[next++];
      if (stage !== "joined") {
        for (const c of [a, b]) {
          if (stage === "tcp") {
            await new Promise((res, rej) => {
              const o = { host: cfg.host, port: cfg.port }; if (c.src) o.localAddress = c.src;
              c.sock = net.connect(o, res); c.sock.on("error", rej); c.upgraded = true;
            });
          } else await c.open();
        }
        continue;
      }
      await a.open();
      await a.join();
      const joined = a.next();
      await b.open();
      const wb = await b.join();
      const pj = await joined;
      if (pj.type !== "peer-joined" || wb.peers[0] !== a.peerId) throw new Error("pairing failed");
      a.pairWith(b); b.pairWith(a);
    }
  }
  await Promise.all(Array.from({ length: Math.min(cfg.connectConcurrency ?? 50, rooms.length) }, lane));
  return { rooms, connectMs: performance.now() - t0 };
}

function cpuMs() { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }

async function run(rooms) {
  const conns = rooms.flat();
  const warmupUs = (cfg.warmup ?? 2) * 1e6, durUs = cfg.duration * 1e6;
  tStart = nowUs(); tMeasure = tStart + warmupUs; tEnd = tMeasure + durUs;
  phase = "run";
  let cpuAtMeasure = null;
  const cpuTimer = setTimeout(() => { cpuAtMeasure = cpuMs(); }, warmupUs / 1000);
  if (mode === "window") {
    for (const c of conns) c.sendSignals(cfg.window);
    await new Promise((r) => setTimeout(r, (warmupUs + durUs) / 1000));
  } else {
    // open loop: every tick, send what is due so far, round-robin over sockets
    const perUs = cfg.rate / 1e6;
    let due = 0, rr = 0;
    await new Promise((resolve) => {
      const tick = setInterval(() => {
        const now = nowUs();
        if (now >= tEnd) { clearInterval(tick); resolve(); return; }
        const target = Math.floor((now - tStart) * perUs);
        let n = target - due;
        if (n <= 0) return;
        due = target;
        // at most 1 frame per socket per round; whole rounds go as one write per socket
        const per = Math.floor(n / conns.length);
        if (per > 0) { for (const c of conns) c.sendSignals(per); n -= per * conns.length; }
        for (; n > 0; n--) { conns[rr].sendSignals(1); rr = (rr + 1) % conns.length; }
      }, 1);
    });
  }
  clearTimeout(cpuTimer);
  const cpuEnd = cpuMs();
  phase = "drain";
  const drainUntil = performance.now() + 3000;
  while (stats.received < stats.sent && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  phase = "done";
  const buckets = [];
  for (let i = 0; i <= NBUCKETS; i++) if (hist[i]) buckets.push([i, hist[i]]);
  return { ...stats, lost: stats.sent - stats.received, durationS: cfg.duration, bucketUs: BUCKET_US,
           overflowBucket: NBUCKETS, buckets, maxUs, loadCpuMsInWindow: cpuAtMeasure === null ? null : cpuEnd - cpuAtMeasure };
}

const stdin = readline.createInterface({ input: process.stdin });
const commands = [];
let commandWaiter = null;
stdin.on("line", (l) => { if (commandWaiter) { const w = commandWaiter; commandWaiter = null; w(l.trim()); } else commands.push(l.trim()); });
stdin.on("close", () => { if (commandWaiter) commandWaiter("close"); else commands.push("close"); });
const command = () => commands.length ? Promise.resolve(commands.shift()) : new Promise((r) => { commandWaiter = r; });

try {
  const { rooms, connectMs } = await setup();
  phase = "ready";
  emit({ ready: true, sockets: rooms.length * 2, connectMs });
  const c = await command();
  if (c === "go" && mode !== "idle") {
    emit({ result: await run(rooms) });
  } else if (mode === "idle") {
    // idle: nothing to do but answer pings until told to close
    let cmd = c;
    while (cmd !== "close") cmd = await command();
    emit({ result: { ...stats } });
  }
  phase = "done";
  for (const [a, b] of rooms) { a.closed = b.closed = true; a.sock.destroy(); b.sock.destroy(); }
  process.exit(0);
} catch (e) {
  emit({ fatal: String(e && e.stack || e), stats });
  process.exit(2);
}
