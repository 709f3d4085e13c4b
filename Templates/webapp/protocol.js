// Signaling protocol (DESIGN.md "Signaling protocol"): frame encoding and
// validation, room-link parsing, and small helpers shared by the SDK and app.
// Pure: no DOM, no network.

/**
 * Largest frame the server accepts: 32,000 bytes, the stricter reading of API
 * Gateway's "32 KB" WebSocket frame quota (a larger frame closes the socket
 * with 1009 in the cloud); `otter up` and the Lambda handlers use the same.
 * Templates/limits.json is the one copy; Tests/webapp/limits.test.mjs holds
 * this module's numbers and sentences to it (plain constants here, so the SDK
 * loads in any browser without a JSON import or a fetch).
 */
export const MAX_FRAME_BYTES = 32000;

/** Longest room token the servers read (longer ones are refused unread). */
export const MAX_TOKEN_CHARS = 4096;

/** The sentences of errors the SDK words itself, as the servers word them. */
export const MESSAGES = Object.freeze({
  "token-expired": "the room link has expired; ask for a new one",
});

/** Server error codes the protocol defines. */
export const SERVER_ERROR_CODES = Object.freeze([
  "room-full", "bad-message", "unknown-peer", "rate-limited", "too-large", "token-expired",
]);

/**
 * @param {{peerId:string, key:string}|null} [resume] the seat an earlier socket held, to take over
 * @returns {string} the join frame
 */
export function encodeJoin(resume = null) {
  return JSON.stringify(resume ? { action: "join", resume } : { action: "join" });
}

/** @returns {string} the ping frame */
export function encodePing() {
  return JSON.stringify({ action: "ping" });
}

/**
 * Encodes a signal frame for one peer. `data` is an SDP description
 * (`{description:{type,sdp}}`), an ICE candidate (`{candidate:{…}}`) or a
 * rejoin notice (`{rejoin:{peerId}}`).
 * @param {string} to peerId of the receiver
 * @param {object} data
 * @returns {string}
 */
export function encodeSignal(to, data) {
  if (typeof to !== "string" || to === "") throw new TypeError("signal needs a peerId");
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new TypeError("signal data must be an object");
  const text = JSON.stringify({ action: "signal", to, data });
  if (utf8Length(text) > MAX_FRAME_BYTES) throw new RangeError(`signal frame exceeds ${MAX_FRAME_BYTES} bytes`);
  return text;
}

/**
 * Parses and validates one server frame. Never throws: returns `null` for a
 * frame that is not valid per the protocol.
 * @param {string} text
 * @returns {null | {type:"welcome",peerId:string,peers:string[],iceServers?:RTCIceServer[],resume?:string}
 *   | {type:"peer-joined"|"peer-left",peerId:string}
 *   | {type:"signal",from:string,data:object}
 *   | {type:"pong"}
 *   | {type:"error",code:string,message:string}}
 */
export function parseServerFrame(text) {
  if (typeof text !== "string") return null;
  let m;
  try { m = JSON.parse(text); } catch { return null; }
  if (!m || typeof m !== "object" || Array.isArray(m) || typeof m.type !== "string") return null;
  const isId = (v) => typeof v === "string" && v.length > 0 && v.length <= 128;
  switch (m.type) {
    case "welcome": {
      if (!isId(m.peerId) || !Array.isArray(m.peers) || !m.peers.every(isId)) return null;
      /** @type {{type:"welcome",peerId:string,peers:string[],iceServers?:RTCIceServer[],resume?:string}} */
      const out = { type: "welcome", peerId: m.peerId, peers: m.peers.filter((p) => p !== m.peerId) };
      if (Array.isArray(m.iceServers)) out.iceServers = m.iceServers;
      if (isId(m.resume)) out.resume = m.resume; // this socket's seat key (DESIGN.md "Seat takeover")
      return out;
    }
    case "peer-joined":
    case "peer-left":
      return isId(m.peerId) ? { type: m.type, peerId: m.peerId } : null;
    case "signal":
      if (!isId(m.from) || !m.data || typeof m.data !== "object" || Array.isArray(m.data)) return null;
      return { type: "signal", from: m.from, data: m.data };
    case "pong":
      return { type: "pong" };
    case "error":
      if (typeof m.code !== "string") return null;
      return { type: "error", code: m.code, message: typeof m.message === "string" ? m.message : "" };
    default:
      return null;
  }
}

/**
 * Validates the `data` of an incoming signal: an SDP description, an ICE
 * candidate, or a rejoin notice (`{rejoin:{peerId}}`: the sender is the peer
 * the receiver knew under `peerId`, back with a new id after a signaling
 * reconnect). Returns null when it is none of them.
 * @param {any} data
 * @returns {null | {description: {type:"offer"|"answer", sdp:string}} | {candidate: object|null}
 *   | {rejoin: {peerId:string}}}
 */
export function parseSignalData(data) {
  if (!data || typeof data !== "object") return null;
  if (data.rejoin) {
    const id = data.rejoin.peerId;
    return typeof id === "string" && id.length > 0 && id.length <= 128 ? { rejoin: { peerId: id } } : null;
  }
  if (data.description) {
    const d = data.description;
    if ((d.type === "offer" || d.type === "answer") && typeof d.sdp === "string") {
      return { description: { type: d.type, sdp: d.sdp } };
    }
    return null;
  }
  if ("candidate" in data) {
    const c = data.candidate;
    if (c === null) return { candidate: null };
    if (c && typeof c === "object" && typeof c.candidate === "string") {
      return {
        candidate: {
          candidate: c.candidate,
          sdpMid: typeof c.sdpMid === "string" ? c.sdpMid : null,
          sdpMLineIndex: Number.isInteger(c.sdpMLineIndex) ? c.sdpMLineIndex : null,
          usernameFragment: typeof c.usernameFragment === "string" ? c.usernameFragment : null,
        },
      };
    }
  }
  return null;
}

/**
 * Parses a room link `<web app>/?room=<roomId>#token=<jwt>` (also `&relay=1`).
 * @param {string} url
 * @returns {{roomId:string, token:string, relay:boolean, base:string}}
 * @throws {Error} with `code` "invalid-link" when room or token is missing
 */
export function parseRoomUrl(url) {
  let u;
  try { u = new URL(url); } catch { throw linkError("the room link is not a URL"); }
  const roomId = u.searchParams.get("room") || "";
  const frag = new URLSearchParams(u.hash.replace(/^#/, ""));
  const token = frag.get("token") || "";
  const relayParam = u.searchParams.get("relay") ?? frag.get("relay");
  const relay = relayParam === "1" || relayParam === "true";
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(roomId)) throw linkError("the link has no valid room id");
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw linkError("the link has no valid room token");
  return { roomId, token, relay, base: u.origin + u.pathname };
}

function linkError(message) {
  return Object.assign(new Error(message), { code: "invalid-link" });
}

/**
 * Reads a JWT's claims without verifying it (only the server can). Used to
 * tell an expired link apart before any network call.
 * @param {string} token
 * @returns {{sub?:string, exp?:number, iat?:number, maxPeers?:number} | null}
 */
export function decodeJwtClaims(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    /** @type {string} */
    const bin = typeof atob === "function" ? atob(padded) : /** @type {any} */ (globalThis).Buffer.from(padded, "base64").toString("binary");
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} token
 * @param {number} [nowMs]
 * @returns {boolean} true when the token carries an `exp` in the past
 */
export function isTokenExpired(token, nowMs = Date.now()) {
  const c = decodeJwtClaims(token);
  return !!(c && typeof c.exp === "number" && c.exp * 1000 <= nowMs);
}

/**
 * The signaling socket URL: `<signalUrl>?token=<jwt>`.
 * @param {string} signalUrl
 * @param {string} token
 * @returns {string}
 */
export function signalSocketUrl(signalUrl, token) {
  const u = new URL(signalUrl);
  u.searchParams.set("token", token);
  return u.toString();
}

/**
 * The ICE-servers URL from config: `apiUrl` + `iceServersPath` with `{roomId}`
 * substituted (default path `/rooms/{roomId}/ice-servers`).
 * @param {{apiUrl:string, iceServersPath?:string}} config
 * @param {string} roomId
 * @returns {string}
 */
export function iceServersUrl(config, roomId) {
  const path = (config.iceServersPath || "/rooms/{roomId}/ice-servers").replace("{roomId}", encodeURIComponent(roomId));
  return config.apiUrl.replace(/\/+$/, "") + (path.startsWith("/") ? path : "/" + path);
}

/**
 * Reconnect delay with exponential backoff and jitter.
 * @param {number} attempt 0-based
 * @param {{base?:number, max?:number, random?:()=>number}} opts (optional)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, { base = 500, max = 10000, random = Math.random } = {}) {
  const exp = Math.min(max, base * 2 ** Math.min(attempt, 20));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * Perfect negotiation roles: the peer whose id sorts lower is polite.
 * @param {string} localId
 * @param {string} remoteId
 * @returns {boolean}
 */
export function isPolite(localId, remoteId) {
  return localId < remoteId;
}

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

// ---- data-channel control messages between peers (chat, state, files) ----

/**
 * Encodes a peer-to-peer control message sent on the "otter" DataChannel.
 * @param {object} msg with a string `t`
 * @returns {string}
 */
export function encodePeerMessage(msg) {
  if (!msg || typeof msg.t !== "string") throw new TypeError("peer message needs t");
  return JSON.stringify(msg);
}

/**
 * Parses a control message from a peer; null when invalid.
 * @param {string} text
 * @returns {null | {t:"chat",text:string,id:string,at:number}
 *   | {t:"hello"|"state",name?:string,mic?:boolean,camera?:boolean,screen?:boolean}
 *   | {t:"bye"} | {t:"rekey",peerId:string}}
 */
export function parsePeerMessage(text) {
  if (typeof text !== "string" || text.length > 65536) return null;
  let m;
  try { m = JSON.parse(text); } catch { return null; }
  if (!m || typeof m !== "object") return null;
  switch (m.t) {
    case "chat":
      if (typeof m.text !== "string" || m.text.length === 0 || m.text.length > 10000) return null;
      return { t: "chat", text: m.text, id: String(m.id ?? ""), at: Number(m.at) || Date.now() };
    case "hello":
    case "state": {
      const out = { t: m.t };
      if (typeof m.name === "string") out.name = m.name.slice(0, 64);
      for (const k of ["mic", "camera", "screen"]) if (typeof m[k] === "boolean") out[k] = m[k];
      return out;
    }
    case "bye":
      return { t: "bye" };
    case "rekey":
      return typeof m.peerId === "string" && m.peerId ? { t: "rekey", peerId: m.peerId } : null;
    default:
      return null;
  }
}
