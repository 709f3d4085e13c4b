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

/**
 * The server's checks of a link: the room (token valid, room exists) and the
 * ICE servers for it, in parallel (each is one round trip).
 * @param {ResolvedConfig} config
 * @param {string} roomId
 * @param {string} token
 * @param {boolean} relay
 * @returns {Promise<{room:any, iceServers:RTCIceServer[], ttlSeconds:number|null}>}
 */
export async function checkRoom(config, roomId, token, relay) {
  /** @type {number|null} */
  let ttlSeconds = null;
  const [room, iceServers] = await Promise.all([
    apiGet(roomApiUrl(config, roomId), token),
    apiGet(P.iceServersUrl(config, roomId), token).then(
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
