// Whether a room has a free seat, before anyone clicks Join.
//
// `GET /rooms/{roomId}` says how many seats a room has (maxPeers), not how
// many are taken, and only the signaling server knows who is in. So the check
// asks it the one way its protocol allows: a `join` on a socket of its own.
// A full room refuses it (`room-full`) and nobody in the call hears of it. A
// room with a seat welcomes it, and the socket is closed at once: the people
// in the call get peer-joined then peer-left, before any offer; the SDK shows
// a newcomer only once its offer arrives, so they see nothing.

import { encodeJoin, parseServerFrame, signalSocketUrl } from "./protocol.js";

/**
 * @param {object} options
 * @param {string} options.signalUrl the signaling endpoint (config.signalUrl)
 * @param {string} options.token the room token
 * @param {number} [options.timeoutMs]
 * @returns {Promise<"free"|"full">} rejects when the server cannot tell (the Join click then finds out)
 */
export function checkSeat({ signalUrl, token, timeoutMs = 8000 }) {
  return new Promise((resolve, reject) => {
    let ws;
    try { ws = new WebSocket(signalSocketUrl(signalUrl, token)); } catch (err) { reject(err); return; }
    let answer = null;
    const finish = (err, result) => {
      clearTimeout(timer);
      ws.onmessage = ws.onclose = ws.onopen = null;
      try { ws.close(1000, "seat check"); } catch {}
      if (err) reject(err); else resolve(result);
    };
    let timer = setTimeout(() => finish(answer ? null : new Error("the signaling server did not answer"), answer), timeoutMs);
    ws.onopen = () => ws.send(encodeJoin());
    ws.onmessage = (ev) => {
      const m = parseServerFrame(typeof ev.data === "string" ? ev.data : "");
      if (!m || answer) return;
      if (m.type === "welcome") {
        // Give the seat back and answer once the server has closed the socket:
        // a join right after this then finds the seat free again.
        answer = "free";
        clearTimeout(timer);
        timer = setTimeout(() => finish(null, answer), 1000);
        try { ws.close(1000, "seat check"); } catch {}
      } else if (m.type === "error" && m.code === "room-full") {
        finish(null, "full");
      } else if (m.type === "error") {
        finish(new Error(m.message || m.code));
      }
    };
    ws.onclose = () => (answer ? finish(null, answer) : finish(new Error("the signaling connection closed")));
    ws.onerror = () => {};
  });
}
