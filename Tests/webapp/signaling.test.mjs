// The signaling client's reconnects (signaling.js) against a fake server
// socket: a rejoin refused as room-full because this side's own dead socket
// still holds its seat (the address changed; the server's ping frees the seat
// within 30 s or so) is retried, not given up at once.
import test from "node:test";
import assert from "node:assert/strict";
import { SignalingClient } from "../../Templates/webapp/signaling.js";

const config = { apiUrl: "http://otter.test", signalUrl: "ws://otter.test/signal", iceServersPath: "/rooms/{roomId}/ice-servers", stunUrls: [] };

/** Sockets that answer a join with what `answers` says next: "welcome" or "full". */
function fakeServer(answers) {
  const sockets = [];
  let n = 0;
  globalThis.WebSocket = class {
    static OPEN = 1;
    constructor() {
      this.readyState = 0;
      sockets.push(this);
      setTimeout(() => { this.readyState = 1; this.onopen && this.onopen(); }, 1);
    }
    send(text) {
      if (JSON.parse(text).action !== "join") return;
      const a = answers[Math.min(n++, answers.length - 1)];
      const frame = a === "welcome"
        ? { type: "welcome", peerId: `p${n}`, peers: [] }
        : { type: "error", code: "room-full", message: "this room is full (2 people)" };
      setTimeout(() => {
        this.onmessage && this.onmessage({ data: JSON.stringify(frame) });
        if (a !== "welcome") this.drop();
      }, 1);
    }
    drop() { if (this.readyState === 3) return; this.readyState = 3; this.onclose && this.onclose({ code: 1000 }); }
    close() { this.drop(); }
  };
  return sockets;
}

function client(extra = {}) {
  const seen = { states: [], gaveUp: [] };
  const c = new SignalingClient({
    config, roomId: "r1", token: "t", ...extra,
    onWelcome: () => {}, onConnected: () => {}, onFrame: () => {},
    onState: (s) => seen.states.push(s), onGaveUp: (e) => seen.gaveUp.push(e.code), isRecovering: () => true,
  });
  return { c, seen };
}

async function until(cond, ms = 8000) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

test("a rejoin refused as room-full (its own old seat still held) is retried until the seat is free", async () => {
  const sockets = fakeServer(["welcome", "full", "full", "welcome"]);
  const { c, seen } = client();
  try {
    await c.connect(true);
    sockets[0].drop(); // the connection dies: rejoin, refused twice, then welcomed
    assert.ok(await until(() => c.state === "connected" && sockets.length === 4), `states ${seen.states}`);
    assert.deepEqual(seen.gaveUp, []);
    assert.ok(!seen.states.includes("offline"), `states ${seen.states}`);
    assert.equal(c.fullSince, 0, "a welcome ends the room-full window");
  } finally {
    c.close();
    delete globalThis.WebSocket;
  }
});

test("a room that stays full past the retry window: offline, and the owner is told", async () => {
  const sockets = fakeServer(["welcome", "full"]);
  const { c, seen } = client({ roomFullRetryMs: 600 });
  try {
    await c.connect(true);
    sockets[0].drop();
    assert.ok(await until(() => c.state === "offline"), `states ${seen.states}`);
    assert.deepEqual(seen.gaveUp, ["room-full"]);
    assert.ok(sockets.length >= 3, "it was retried before giving up");
  } finally {
    c.close();
    delete globalThis.WebSocket;
  }
});
