// The Otter REST API as the SDK uses it: the public config, a link's checks
// (room, ICE servers) and the errors they end in (DESIGN.md).

import * as P from "./protocol.js";
import { OtterError } from "./errors.js";

/**
 * @typedef {{apiUrl:string, signalUrl:string, iceServersPath:string, stunUrls:string[]}} ResolvedConfig
 */

/**
 * Reads the public config (`window.OTTER_CONFIG` from /config.js) unless one is given.
 * @param {import("./otter.js").OtterConfig} [config]
 * @returns {ResolvedConfig}
 */
export function resolveConfig(config) {
  const c = config || /** @type {any} */ (globalThis).OTTER_CONFIG;
  if (!c || typeof c.apiUrl !== "string" || typeof c.signalUrl !== "string") {
    throw new OtterError("bad-config", "no Otter config: load /config.js or pass { config }");
  }
  return {
    apiUrl: c.apiUrl,
    signalUrl: c.signalUrl,
    iceServersPath: c.iceServersPath || "/rooms/{roomId}/ice-servers",
    stunUrls: Array.isArray(c.stunUrls) ? c.stunUrls : [],
  };
}

/**
 * A GET with the room token; HTTP errors become OtterError codes.
 * @param {string} url
 * @param {string} token
 * @param {number} [timeoutMs] 0: none
 * @returns {Promise<any>} the JSON body
 */
export async function apiGet(url, token, timeoutMs = 0) {
  let res;
  try {
    // (AbortSignal.timeout is newer than the DOM types of Debian's TypeScript)
    const Abort = /** @type {{timeout?:(ms:number)=>AbortSignal}|undefined} */ (globalThis.AbortSignal);
    const signal = timeoutMs && Abort && Abort.timeout ? Abort.timeout(timeoutMs) : undefined;
    res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store", signal });
  } catch (err) {
    throw new OtterError("network", "the Otter server cannot be reached", { cause: err });
  }
  let body = null;
  try { body = await res.json(); } catch {}
  if (res.ok) return body;
  const serverCode = body && body.error && body.error.code;
  const message = (body && body.error && body.error.message) || `HTTP ${res.status}`;
  if (res.status === 401 || res.status === 403) {
    throw new OtterError(serverCode === "token-expired" ? "token-expired" : "invalid-link", message, { status: res.status });
  }
  if (res.status === 404) throw new OtterError("room-not-found", message, { status: 404 });
  throw new OtterError("network", message, { status: res.status });
}

/**
 * The room a join() or prepare() call is about, from its options.
 * @param {import("./otter.js").PrepareOptions} options
 * @returns {{config:ResolvedConfig, roomId:string, token:string, relay:boolean}}
 */
export function target(options) {
  const config = resolveConfig(options.config);
  let roomId = options.roomId;
  let token = options.token;
  let relay = options.iceTransportPolicy === "relay";
  if (options.roomUrl) {
    let link;
    try { link = P.parseRoomUrl(options.roomUrl); } catch (err) { throw new OtterError("invalid-link", err.message); }
    roomId = link.roomId;
    token = link.token;
    relay = relay || link.relay;
  }
  if (!roomId || !token) throw new OtterError("invalid-link", "a room id and token are needed");
  if (P.isTokenExpired(token)) throw new OtterError("token-expired", P.MESSAGES["token-expired"]);
  return { config, roomId, token, relay };
}

/**
 * `GET /rooms/{roomId}`: the room check.
 * @param {ResolvedConfig} config
 * @param {string} roomId
 */
export function roomApiUrl(config, roomId) {
  return `${config.apiUrl.replace(/\/+$/, "")}/rooms/${encodeURIComponent(roomId)}`;
}

/** How long one request of a link's checks may go unanswered before it is tried again (once). */
export const CHECK_TIMEOUT_MS = 10000;
const CHECK_ATTEMPTS = 2;

/**
 * apiGet for a link's checks: a request that gets no answer in time (or whose
 * connection fails) is tried once more, then fails as "network". Without
 * this a request the network lost left the page on its loading screen for
 * good (seen in CI, no lobby after 60 s); the checks are GETs, safe to repeat.
 * An HTTP status is the server's answer and is never retried.
 * @param {string} url
 * @param {string} token
 * @param {number} timeoutMs
 * @returns {Promise<any>}
 */
async function checkGet(url, token, timeoutMs) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apiGet(url, token, timeoutMs);
    } catch (err) {
      const unanswered = err instanceof OtterError && err.code === "network" && err.status === undefined;
      if (!unanswered || attempt >= CHECK_ATTEMPTS) throw err;
    }
  }
}

/**
 * The server's checks of a link: the room (token valid, room exists) and the
 * ICE servers for it, in parallel (each is one round trip).
 * @param {ResolvedConfig} config
 * @param {string} roomId
 * @param {string} token
 * @param {boolean} relay
 * @param {number} [timeoutMs] how long each request may go unanswered (then it is tried once more)
 * @returns {Promise<{room:any, iceServers:RTCIceServer[], ttlSeconds:number|null}>}
 */
export async function checkRoom(config, roomId, token, relay, timeoutMs = CHECK_TIMEOUT_MS) {
  /** @type {number|null} */
  let ttlSeconds = null;
  const [room, iceServers] = await Promise.all([
    checkGet(roomApiUrl(config, roomId), token, timeoutMs),
    checkGet(P.iceServersUrl(config, roomId), token, timeoutMs).then(
      (ice) => {
        if (ice && Number.isFinite(ice.ttlSeconds)) ttlSeconds = ice.ttlSeconds;
        return Array.isArray(ice && ice.iceServers) ? ice.iceServers : [];
      },
      (err) => {
        if (err.code !== "network") throw err;
        return config.stunUrls.length ? [{ urls: config.stunUrls }] : [];
      },
    ),
  ]);
  if (relay && !iceServers.some((s) => [].concat(s.urls).some((u) => /^turns?:/.test(u)))) {
    throw new OtterError("bad-config", "relay-only mode needs a TURN server, and the room has none");
  }
  return { room, iceServers, ttlSeconds };
}
