// Otter browser SDK: private peer-to-peer calls.
//
//   import Otter from "./otter.js";
//   const call = await Otter.join({ roomUrl: location.href });
//   call.on("track", ({ peerId, stream }) => { video.srcObject = stream; });
//
// One RTCPeerConnection per remote peer (mesh, up to 4), perfect negotiation
// (the lower peerId is polite), signaling per DESIGN.md over a WebSocket that
// reconnects with backoff. Chat, state and files travel over DataChannels and
// never touch a server.

import * as P from "./protocol.js";
import { Negotiator } from "./negotiation.js";
import { sendFileOnChannel, FileReceiver, newTransferId } from "./files.js";
import { safetyCodeFromSdp } from "./safety.js";

export const VERSION = "0.1.0";

const WELCOME_TIMEOUT_MS = 10000;
const PING_INTERVAL_MS = 25000;
const LIMBO_MS = 6000; // how long a peer the server says left may stay while its media still flows
const REKEY_WAIT_MS = 1500;
const SIGNALING_RETRY_MAX_MS = 5000;
const SIGNALING_RETRY_RECOVERING_MS = 2000;
const OFFER_WAIT_MS = 1500;
const OFFERS_WAIT_MS = 300; // join() waits at most this long for its first offers to be sent
const PROGRESS_INTERVAL_MS = 100;
const REJOIN_WAIT_MS = 30000; // how long a peer the restarted server no longer knows may take to come back
const ICE_FETCH_TIMEOUT_MS = 4000;
const ICE_REUSE_MS = 5000; // ICE servers fetched this recently serve every connection's restart
const FLOW_CHECK_MS = 1000;
// A recovery pings signaling: no frame back within this long, and the socket is
// taken for dead (a changed address leaves its TCP connection silent for minutes).
const SIGNALING_PROBE_MS = 1500;
const STALL_MS = 2000; // nothing received this long on a connection that carried media: recover
const FLOWING_BYTES_PER_MS = 2; // what "carried media" means (audio alone is ~5)

/** An error with a machine-readable `code`. */
export class OtterError extends Error {
  /**
   * @param {string} code e.g. "invalid-link", "token-expired", "room-not-found", "room-full",
   *   "media-denied", "media-not-found", "network", "signaling-unavailable", "bad-config"
   * @param {string} message
   * @param {object} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = "OtterError";
    this.code = code;
    Object.assign(this, extra);
  }
}

/**
 * Reads the public config (`window.OTTER_CONFIG` from /config.js) unless one is given.
 * @param {object} [config]
 * @returns {{apiUrl:string, signalUrl:string, iceServersPath:string, stunUrls:string[]}}
 */
export function resolveConfig(config) {
  const c = config || globalThis.OTTER_CONFIG;
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

async function apiGet(url, token, timeoutMs = 0) {
  let res;
  try {
    const signal = timeoutMs && typeof AbortSignal !== "undefined" && AbortSignal.timeout ? AbortSignal.timeout(timeoutMs) : undefined;
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
 * Joins a room. Resolves once the server welcomed this side and the offers to
 * the peers already in the room are sent (or at most OFFERS_WAIT_MS later).
 * @param {object} options
 * @param {string} [options.roomUrl] a room link `<app>/?room=<id>#token=<jwt>`
 * @param {string} [options.roomId] instead of roomUrl, with token
 * @param {string} [options.token]
 * @param {object} [options.config] `{apiUrl, signalUrl, iceServersPath, stunUrls}`; default window.OTTER_CONFIG
 * @param {MediaStream|MediaStreamConstraints|false} [options.media] a stream to send, constraints for
 *   getUserMedia (default `{audio:true, video:true}`), or false to only receive
 * @param {string} [options.name] display name shown to the others
 * @param {"all"|"relay"} [options.iceTransportPolicy] "relay" forces TURN (also `?relay=1` on the link)
 * @param {boolean} [options.stopTracksOnLeave] stop the local tracks on leave (default: only tracks the SDK itself acquired)
 * @param {Preparation} [options.prepared] what prepare() did for this link (its checks are then
 *   not repeated if at most 10 minutes, and half the ICE credentials' lifetime, old)
 * @param {number} [options.offerWaitMs] how long this side, already in the room, waits for a newcomer's
 *   offer before offering itself (default 1500; 0 makes both sides offer at once, which perfect
 *   negotiation resolves — the browser tests use it to force that collision)
 * @returns {Promise<Call>}
 * @throws {OtterError}
 */
export async function join(options = {}) {
  const { config, roomId, token, relay } = target(options);
  const t0 = performance.now();
  const ready = usablePreparation(options.prepared, roomId, token, relay);
  // The signaling socket opens while the checks run (the join is sent once
  // they passed); a refused one is explained by the checks' own errors.
  let early = null;
  try { early = new WebSocket(P.signalSocketUrl(config.signalUrl, token)); } catch {}
  const dropEarly = () => { if (early) { early.onclose = null; try { early.close(); } catch {} } };
  let room, iceServers, certificate;
  if (ready) {
    ({ room, iceServers } = ready);
    certificate = ready.certificate;
    await ready.warmed;
  } else {
    // One DTLS certificate for all of this call's connections, made while the
    // REST checks run: otherwise each RTCPeerConnection makes its own and its
    // first offer or answer waits for it (25-50 ms on a busy CPU).
    certificate = newCertificate();
    ({ room, iceServers } = await checkRoom(config, roomId, token, relay).catch((err) => { dropEarly(); throw err; }));
  }

  let stream = null;
  let ownsStream = false;
  if (options.media instanceof (globalThis.MediaStream || class {})) {
    stream = options.media;
  } else if (options.media !== false) {
    try {
      stream = await getMedia(options.media || { audio: true, video: true });
    } catch (err) {
      dropEarly();
      throw err;
    }
    ownsStream = true;
  }

  const call = new Call({
    config, roomId, token, room, iceServers, relay, stream, certificate: await certificate,
    name: options.name || "",
    stopTracksOnLeave: options.stopTracksOnLeave ?? ownsStream,
    offerWaitMs: options.offerWaitMs,
  });
  call.t0 = t0;
  call.timings.api = performance.now() - t0;
  call._makeSpares(Math.min(3, ((room && room.maxPeers) || 4) - 1));
  try {
    await call._connect(true, early);
  } catch (err) {
    call._teardown();
    throw err;
  }
  // The page's own work once join() resolves (showing the call) would hold
  // up the offers' completion on the main thread (traced: setLocalDescription
  // 55-66 ms instead of 8-12 ms on a busy CPU); the page renders while the
  // answers are on their way instead.
  let waited;
  await Promise.race([Promise.all(call._firstOffers || []), new Promise((r) => { waited = setTimeout(r, OFFERS_WAIT_MS); })]);
  clearTimeout(waited);
  // Delivered after the caller's code that follows `await join()` has run.
  setTimeout(() => call._releaseEvents(), 0);
  return call;
}

/**
 * The room a join() or prepare() call is about, from its options.
 * @private
 */
function target(options) {
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
  if (P.isTokenExpired(token)) throw new OtterError("token-expired", "this room link has expired; ask for a new one");
  return { config, roomId, token, relay };
}

/** `GET /rooms/{roomId}`: the room check. @private */
function roomApiUrl(config, roomId) {
  return `${config.apiUrl.replace(/\/+$/, "")}/rooms/${encodeURIComponent(roomId)}`;
}

/**
 * The server's checks of a link: the room (token valid, room exists) and the
 * ICE servers for it, in parallel (each is one round trip).
 * @private
 * @returns {Promise<{room:object, iceServers:RTCIceServer[], ttlSeconds:number|null}>}
 */
async function checkRoom(config, roomId, token, relay) {
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

const PREPARED_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * Does ahead of join() what does not need the user's click: the server's
 * checks of the link (room, ICE servers), the DTLS certificate, and one
 * offer/answer between two throwaway local connections, so the browser's
 * WebRTC machinery is loaded before the call's first offer or answer needs
 * it. A lobby calls this while the camera preview shows and passes the result
 * to `join({ prepared })`, which then starts at the signaling socket. Nobody
 * in the room learns of it: the room is joined only by join().
 * @param {object} options the same link options as join(): roomUrl, or roomId and token; config; iceTransportPolicy
 * @returns {Promise<Preparation>} rejects with the same OtterError codes as join()'s checks
 */
export async function prepare(options = {}) {
  const { config, roomId, token, relay } = target(options);
  const preparedAt = Date.now();
  const certificate = newCertificate();
  const { room, iceServers, ttlSeconds } = await checkRoom(config, roomId, token, relay);
  const cert = await certificate;
  // ICE credentials from the server expire: use them for at most half their life
  const maxAgeMs = Math.min(PREPARED_MAX_AGE_MS, ttlSeconds ? (ttlSeconds * 1000) / 2 : PREPARED_MAX_AGE_MS);
  return Object.freeze({ roomId, token, relay, room, iceServers, certificate: cert, preparedAt, maxAgeMs, warmed: warmUp(cert) });
}

/**
 * @typedef {object} Preparation what prepare() did, for join({ prepared })
 * @property {string} roomId
 * @property {object} room the room as the server described it (e.g. maxPeers)
 * @property {RTCIceServer[]} iceServers
 */

/** A preparation join() may use: same link, not too old. @private */
function usablePreparation(prepared, roomId, token, relay) {
  if (!prepared || prepared.roomId !== roomId || prepared.token !== token || prepared.relay !== relay) return null;
  return Date.now() - prepared.preparedAt < prepared.maxAgeMs ? prepared : null;
}

/**
 * One offer/answer between two local connections that never connect: the
 * first SDP a page applies loads codecs and media channels (traced: the
 * answerer's first setRemoteDescription took 52 ms median cold, 25 ms after
 * this). Failures do not matter.
 * @private
 * @returns {Promise<void>}
 */
async function warmUp(certificate) {
  const PC = globalThis.RTCPeerConnection;
  if (!PC) return;
  let a = null, b = null;
  try {
    const conf = certificate ? { certificates: [certificate] } : {};
    a = new PC(conf);
    b = new PC(conf);
    a.addTransceiver("audio", { direction: "sendrecv" });
    a.addTransceiver("video", { direction: "sendrecv" });
    a.createDataChannel("warm-up", { negotiated: true, id: 0 });
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
  } catch {
    // only a head start
  } finally {
    for (const pc of [a, b]) { try { pc && pc.close(); } catch {} }
  }
}

/**
 * A fresh ECDSA certificate, or null where that cannot be made (the browser
 * then makes one per connection itself).
 * @returns {Promise<RTCCertificate|null>}
 */
function newCertificate() {
  const PC = globalThis.RTCPeerConnection;
  if (!PC || typeof PC.generateCertificate !== "function") return Promise.resolve(null);
  return PC.generateCertificate({ name: "ECDSA", namedCurve: "P-256" }).catch(() => null);
}

/**
 * getUserMedia with errors as OtterError ("media-denied", "media-not-found").
 * @param {MediaStreamConstraints} constraints
 * @returns {Promise<MediaStream>}
 */
export async function getMedia(constraints) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    if (err && (err.name === "NotAllowedError" || err.name === "SecurityError")) {
      throw new OtterError("media-denied", "camera or microphone access was denied", { cause: err });
    }
    if (err && (err.name === "NotFoundError" || err.name === "OverconstrainedError" || err.name === "NotReadableError")) {
      throw new OtterError("media-not-found", "no usable camera or microphone was found", { cause: err });
    }
    throw new OtterError("media-denied", String((err && err.message) || err), { cause: err });
  }
}

/**
 * A joined call. Events (listen with `on(type, fn)`; `fn` receives the detail):
 * `peer-joined` {peerId}, `peer-left` {peerId}, `peer-updated` {peerId,name,mic,camera,screen},
 * `track` {peerId,track,stream}, `message` {peerId,name,text,id,at},
 * `file-offer` {peerId,id,name,size,type,cancel}, `file-progress` {peerId,id,name,direction,bytes,size,state},
 * `file-received` {peerId,id,name,size,type,sha256,blob}, `safety-code` {peerId,code},
 * `connection-state` {scope:"signaling"|"peer", state, peerId?, attempt?}, `error` {code,message,peerId?}.
 * A peer's state is "new", "connecting", "connected", "reconnecting" (its media path broke: the SDK
 * restarts ICE with fresh ICE servers, retrying with backoff), "failed" or "closed".
 */
export class Call extends EventTarget {
  /** @private */
  constructor({ config, roomId, token, room, iceServers, relay, stream, name, stopTracksOnLeave, certificate = null, offerWaitMs }) {
    super();
    this.offerWaitMs = Number.isFinite(offerWaitMs) && offerWaitMs >= 0 ? offerWaitMs : OFFER_WAIT_MS;
    this.certificate = certificate;
    this.config = config;
    /** @type {string} */
    this.roomId = roomId;
    this.token = token;
    this.room = room;
    this.iceServers = iceServers;
    /** @type {boolean} true when media is forced through the TURN relay */
    this.relay = relay;
    /** @type {MediaStream} what this side sends */
    this.localStream = stream || new MediaStream();
    this.name = name;
    this.stopTracksOnLeave = stopTracksOnLeave;
    /** @type {string|null} this side's peerId (changes after a signaling reconnect) */
    this.peerId = null;
    this.peersById = new Map();
    this.ws = null;
    this.signalingState = "connecting";
    this.left = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.screenTrack = null;
    this.micOn = this.localStream.getAudioTracks().some((t) => t.enabled);
    this.cameraOn = this.localStream.getVideoTracks().some((t) => t.enabled);
    this.transfers = new Map();
    this._held = [];
    /** milliseconds from join() for: api (REST checks done), welcome, and per peer firstConnected */
    this.timings = {};
  }

  /**
   * Subscribes to an event.
   * @param {string} type
   * @param {(detail:any)=>void} fn
   * @returns {()=>void} unsubscribe
   */
  on(type, fn) {
    const l = (ev) => fn(ev.detail);
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /** @private */
  _emit(type, detail) {
    // Until join() has returned and the caller had a chance to subscribe,
    // events (peers from the welcome, their first tracks) are held, not lost.
    if (this._held) { this._held.push([type, detail]); return; }
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @private */
  _releaseEvents() {
    const held = this._held || [];
    this._held = null;
    for (const [type, detail] of held) this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * The remote peers and what is known about them.
   * @returns {{peerId:string,name:string,state:string,mic:boolean,camera:boolean,screen:boolean,safetyCode:string|null}[]}
   */
  get peers() {
    return [...this.peersById.values()].filter((p) => !p.closed && p.announced).map((p) => ({
      peerId: p.id, name: p.name, state: this._peerState(p), mic: p.mic, camera: p.camera, screen: p.screen, safetyCode: p.safetyCode,
    }));
  }

  /**
   * The RTCPeerConnection to one peer (for getStats and diagnostics).
   * @param {string} peerId
   * @returns {RTCPeerConnection|null}
   */
  connectionTo(peerId) {
    const p = this.peersById.get(peerId);
    return p ? p.pc : null;
  }

  // ---------------------------------------------------------------- signaling

  /**
   * @private
   * @param {boolean} first
   * @param {WebSocket|null} [early] a socket join() opened already
   */
  _connect(first, early = null) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        err ? reject(err) : resolve();
      };
      const timer = setTimeout(() => {
        done(new OtterError("signaling-unavailable", "the signaling server did not answer"));
        try { ws.close(); } catch {}
      }, WELCOME_TIMEOUT_MS);
      let ws = early && early.readyState <= WebSocket.OPEN ? early : null;
      if (early && !ws) { try { early.close(); } catch {} } // closed meanwhile: try once more
      try {
        ws ||= new WebSocket(P.signalSocketUrl(this.config.signalUrl, this.token));
      } catch (err) {
        return done(new OtterError("bad-config", `bad signaling URL: ${err.message}`));
      }
      this.ws = ws;
      let welcomed = false;
      if (ws.readyState === WebSocket.OPEN) ws.send(P.encodeJoin());
      else ws.onopen = () => ws.send(P.encodeJoin());
      ws.onmessage = (ev) => {
        const m = P.parseServerFrame(typeof ev.data === "string" ? ev.data : "");
        if (!m) return;
        if (m.type === "welcome") {
          if (first) this.timings.welcome = performance.now() - this.t0;
          welcomed = true;
          this.attempt = 0;
          this._onWelcome(m, first);
          this._dropSpares();
          this._setSignaling("connected");
          if (!first) for (const p of this.peersById.values()) if (this._canSignal(p)) p.neg.onSignalingReady();
          done();
          return;
        }
        if (m.type === "error" && !welcomed) {
          if (m.code === "room-full") done(new OtterError("room-full", m.message || "this room is full"));
          else if (m.code === "token-expired") done(new OtterError("token-expired", m.message || "this room link has expired"));
          else done(new OtterError("signaling-unavailable", m.message || m.code));
          return;
        }
        this._onServerFrame(m);
      };
      ws.onclose = async () => {
        if (this.ws === ws) this.ws = null;
        clearInterval(this.pingTimer);
        if (!welcomed) {
          if (settled) return;
          // The server refuses a bad token before the socket opens; find out why.
          try {
            await apiGet(roomApiUrl(this.config, this.roomId), this.token);
            done(new OtterError("signaling-unavailable", "the signaling connection was refused"));
          } catch (err) {
            done(err);
          }
          return;
        }
        if (!this.left) this._scheduleReconnect();
      };
      ws.onerror = () => {};
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(P.encodePing());
      }, PING_INTERVAL_MS);
    });
  }

  /** @private */
  _setSignaling(state) {
    if (this.signalingState === state) return;
    this.signalingState = state;
    this._emit("connection-state", { scope: "signaling", state });
    // a recovery that now cannot signal any more has failed
    for (const p of this.peersById.values()) this._emitPeerState(p);
  }

  /** @private */
  _scheduleReconnect() {
    if (this.left || this.reconnectTimer) return;
    if (P.isTokenExpired(this.token)) {
      // The link expired mid-call: running connections go on, only new
      // signaling (new peers, ICE restarts) is no longer possible.
      this._setSignaling("expired");
      return;
    }
    this._setSignaling("reconnecting");
    // At most 5 s apart, 2 s while a connection waits on signaling to
    // recover (its relay restarted with the server): its media is down.
    const recovering = [...this.peersById.values()].some((p) => p.neg.recovering);
    const delay = P.backoffDelay(this.attempt++, { max: recovering ? SIGNALING_RETRY_RECOVERING_MS : SIGNALING_RETRY_MAX_MS });
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      if (this.left) return;
      try {
        await this._connect(false);
      } catch (err) {
        if (err.code === "token-expired" || err.code === "invalid-link" || err.code === "room-not-found") {
          this._setSignaling("expired");
          this._emit("error", { code: err.code, message: err.message, fatal: false });
          return;
        }
        if (err.code === "room-full") {
          this._setSignaling("offline");
          this._emit("error", { code: "room-full", message: err.message, fatal: false });
          return;
        }
        this._scheduleReconnect();
      }
    }, delay);
  }

  /**
   * @private A connection's path broke: the signaling socket may have broken
   * with it (the network changed) without a word, and the ICE restart's offer
   * would be lost in it. A ping must be answered in time; else the socket is
   * dropped and signaling reconnects at once.
   */
  _probeSignaling() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this._probing) return;
    const sentAt = performance.now();
    this._probing = true;
    ws.send(P.encodePing());
    setTimeout(() => {
      this._probing = false;
      if (this.ws !== ws || this.left || (this._heardAt || 0) >= sentAt) return;
      ws.onclose = null;
      ws.onmessage = null;
      try { ws.close(); } catch {}
      this.ws = null;
      clearInterval(this.pingTimer);
      this._scheduleReconnect();
    }, SIGNALING_PROBE_MS);
  }

  /** @private */
  _send(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(text);
      return true;
    }
    return false;
  }

  /** @private */
  _onWelcome(m, first) {
    const oldId = this.peerId;
    this.peerId = m.peerId;
    if (Array.isArray(m.iceServers) && m.iceServers.length && !this.iceServers.length) this.iceServers = m.iceServers;
    const listed = new Set(m.peers);
    if (oldId && oldId !== m.peerId) (this.pastIds ||= []).push(oldId);
    if (!first) this._iceFetchedAt = 0; // the server is back: restarts from now on ask it for fresh ICE servers
    if (!first && oldId && oldId !== m.peerId) {
      // Rejoined with a new id. Every connection is kept: those that work
      // tell their peer the new id over their data channel; for the others
      // (their media path broke too, e.g. the relay restarted with the
      // server) it goes through signaling, as a rejoin notice naming the id
      // the peer knew, so the connection can restart ICE instead of starting
      // over. A peer the server does not list (the server restarted and
      // forgot everyone) is waited for: it will come back with a new id.
      for (const p of [...this.peersById.values()]) {
        if (p.pc.signalingState === "closed") { this._removePeer(p.id); continue; }
        // (a connection that looks connected may be broken without ICE
        // having noticed yet: the rekey may never arrive, the notice will)
        if (p.pc.connectionState === "connected" && p.dc.readyState === "open") {
          p.dc.send(P.encodePeerMessage({ t: "rekey", peerId: this.peerId }));
        }
        if (listed.has(p.id)) this._sendRejoin(p.id);
        if (listed.has(p.id)) p.neg.polite = P.isPolite(this.peerId, p.id);
        else this._awaitRejoin(p);
      }
    }
    const waiting = [...this.peersById.values()].filter((p) => p.awaitingRejoin);
    this._firstOffers = [];
    for (const id of m.peers) {
      // our own old seat, still held by a socket the server has not found dead yet
      if (this.peersById.has(id) || this.pastIds?.includes(id)) continue;
      if (waiting.length) {
        // Perhaps one of those this side waits for, back with a new id: ask
        // it (it answers with the id this side knew) before starting over.
        this._sendRejoin(id);
        const timer = setTimeout(() => {
          this.pendingJoins?.delete(id);
          if (!this.peersById.has(id) && !this.left) this._addPeer(id).neg.onNegotiationNeeded();
        }, REKEY_WAIT_MS);
        (this.pendingJoins ||= new Map()).set(id, timer);
        continue;
      }
      // The newcomer offers to everyone in its welcome, at once: waiting for
      // negotiationneeded would queue the offer behind whatever the page does
      // when join() resolves (tens of ms on a busy CPU). The event that
      // follows finds the offer made and does nothing.
      this._firstOffers.push(this._addPeer(id).neg.onNegotiationNeeded());
    }
  }

  /** @private */
  _onServerFrame(m) {
    this._heardAt = performance.now();
    switch (m.type) {
      case "peer-joined": {
        if (this.peersById.has(m.peerId) || this.pastIds?.includes(m.peerId)) return;
        // The newcomer offers to everyone it finds in its welcome; we answer
        // when that offer arrives, which avoids a needless glare round. If no
        // offer comes (or the newcomer is a peer we still hear, coming back
        // with a new id and sending a rekey instead), act after a moment.
        // Perfect negotiation keeps both offering at once safe anyway.
        const limbo = [...this.peersById.values()].some((p) => p.limboTimer || p.awaitingRejoin);
        if (!limbo) {
          // The connection that will answer is made now, with its ICE
          // candidates gathering (the pool) before the offer arrives: the
          // answer can then be checked at once instead of after gathering.
          // It is announced (peer-joined) once the peer shows up on it: a
          // peer coming back with a new id sends a rekey instead, and this
          // connection then goes without a trace.
          // It must not offer meanwhile (its chat channel alone makes the
          // browser ask for a negotiation).
          const peer = this._addPeer(m.peerId, { answering: true, pool: true, announce: false });
          peer.neg.holdOffers = true;
          peer.offerTimer = setTimeout(() => {
            peer.offerTimer = null;
            if (peer.closed || peer.pc.remoteDescription || peer.pc.signalingState !== "stable") return;
            this._announce(peer);
            this._addOwnTransceivers(peer);
            peer.neg.holdOffers = false;
            peer.neg.onNegotiationNeeded();
          }, this.offerWaitMs);
          return;
        }
        const timer = setTimeout(() => {
          this.pendingJoins?.delete(m.peerId);
          if (!this.peersById.has(m.peerId) && !this.left) this._addPeer(m.peerId);
        }, REKEY_WAIT_MS);
        (this.pendingJoins ||= new Map()).set(m.peerId, timer);
        return;
      }
      case "peer-left": {
        const pending = this.pendingJoins && this.pendingJoins.get(m.peerId);
        if (pending) { clearTimeout(pending); this.pendingJoins.delete(m.peerId); }
        const p = this.peersById.get(m.peerId);
        if (!p) return;
        // Still connected, or recovering (its relay went away with its
        // signaling): it may come back with a new id and a rekey.
        if (!p.bye && (p.pc.connectionState === "connected" || (p.neg.recovering && p.pc.connectionState !== "closed"))) {
          p.limboTimer = setTimeout(() => this._removePeer(p.id), LIMBO_MS);
        } else {
          this._removePeer(m.peerId);
        }
        return;
      }
      case "signal": {
        const data = P.parseSignalData(m.data);
        if (!data) return;
        if (data.rejoin) return this._onRejoin(m.from, data.rejoin.peerId);
        let p = this.peersById.get(m.from);
        if (!p) {
          const pending = this.pendingJoins && this.pendingJoins.get(m.from);
          if (pending) { clearTimeout(pending); this.pendingJoins.delete(m.from); }
          if (!data.description || data.description.type !== "offer") return;
          p = this._addPeer(m.from, { answering: true });
        } else {
          if (data.description) {
            clearTimeout(p.offerTimer);
            p.offerTimer = null;
            p.neg.holdOffers = false;
          }
          this._announce(p);
          this._restartOnFirstGlare(p, data);
        }
        p.neg.onSignal(data);
        return;
      }
      case "error":
        if (m.code === "token-expired") {
          this._setSignaling("expired");
        }
        this._emit("error", { code: m.code, message: m.message, fatal: false });
        return;
      default:
    }
  }

  // -------------------------------------------------------------- connections

  /** @private */
  _rtcConfig({ pool = false } = {}) {
    const c = this.certificate;
    return {
      ...(pool ? { iceCandidatePoolSize: 1 } : {}),
      iceServers: this.iceServers,
      iceTransportPolicy: this.relay ? "relay" : "all",
      bundlePolicy: "max-bundle",
      // an expired one (a call running for weeks) is left to the browser
      ...(c && !(c.expires <= Date.now()) ? { certificates: [c] } : {}),
    };
  }

  /**
   * @private
   * @param {string} id
   * @param {{answering?:boolean, pool?:boolean, announce?:boolean}} [opts] answering: created for
   *   the offer it sent or is about to send us; pool: start gathering ICE candidates before any
   *   offer; announce: emit peer-joined now (else at _announce)
   */
  _addPeer(id, { answering = false, pool = false, announce = true } = {}) {
    const peer = {
      id, pc: null, neg: null, dc: null, name: "", mic: true, camera: true, screen: false, safetyCode: null, closed: false,
      stream: null, bye: false, limboTimer: null, offerTimer: null, lastState: "new", audioTx: null, videoTx: null,
      announced: false, awaitingRejoin: false, rejoinTimer: null,
    };
    this.peersById.set(id, peer);
    this._connectPeer(peer, { answering, pool });
    if (announce) this._announce(peer);
    return peer;
  }

  /** Emits peer-joined for a peer, once. @private */
  _announce(peer) {
    if (peer.announced || peer.closed) return;
    peer.announced = true;
    this._emit("peer-joined", { peerId: peer.id });
  }

  /**
   * Connections made before the welcome says who is in the room, gathering
   * their ICE candidates meanwhile (the pool): Chromium starts gathering
   * 40-130 ms after an offer is set (traced on this 2-core machine), time the
   * first offers would otherwise wait for before the other side can check
   * anything. Those the welcome does not use are closed right after it (each
   * may hold a TURN allocation).
   * @private
   * @param {number} n
   */
  _makeSpares(n) {
    this._spares = [];
    if (!globalThis.RTCPeerConnection) return;
    for (let i = 0; i < n; i++) {
      try { this._spares.push(new RTCPeerConnection(this._rtcConfig({ pool: true }))); } catch { break; }
    }
  }

  /** @private */
  _dropSpares() {
    for (const pc of this._spares || []) { try { pc.close(); } catch {} }
    this._spares = [];
  }

  /**
   * Gives a peer a new RTCPeerConnection (with its negotiator and chat channel).
   * @private
   * @param {object} peer
   * @param {{answering?:boolean, pool?:boolean}} [opts] as for _addPeer
   */
  _connectPeer(peer, { answering = false, pool = false } = {}) {
    const pc = (this._spares && this._spares.shift()) || new RTCPeerConnection(this._rtcConfig({ pool }));
    const neg = new Negotiator({
      pc,
      polite: P.isPolite(this.peerId, peer.id),
      send: (data) => {
        try { this._send(P.encodeSignal(peer.id, data)); } catch (err) { this._emit("error", { code: "signal-too-large", message: err.message, peerId: peer.id }); }
      },
      onError: (err) => this._emit("error", { code: "negotiation", message: String(err && err.message), peerId: peer.id, fatal: false }),
      beforeAnswer: () => this._adoptTransceivers(peer),
      prepareRestart: () => this._refreshIceServers(pc),
      canSignal: () => peer.pc === pc && this._canSignal(peer),
      // "connected" once the connection itself is (it may follow ICE's change)
      onRecovery: (state, attempt) => {
        if (state === "reconnecting") this._probeSignaling();
        if (peer.pc === pc && (state === "reconnecting" || pc.connectionState === "connected")) this._emitPeerState(peer, attempt);
      },
    });
    Object.assign(peer, { pc, neg, audioTx: null, videoTx: null, lastState: "new", flow: null });
    if (!this.flowTimer && typeof pc.getStats === "function") this.flowTimer = setInterval(() => this._checkFlows(), FLOW_CHECK_MS);

    // Always one audio and one video transceiver, so the camera, a new device
    // or a screen can be swapped in with replaceTrack and no renegotiation.
    // The side that answers takes them from the offer instead (beforeAnswer):
    // Chromium never pairs an offer's m-lines with addTransceiver's
    // transceivers, so adding its own would cost a second offer/answer round
    // before its media could flow.
    if (!answering) this._addOwnTransceivers(peer);

    const dc = peer.dc = pc.createDataChannel("otter", { negotiated: true, id: 0, ordered: true });
    dc.onopen = () => {
      dc.send(P.encodePeerMessage({ t: "hello", name: this.name, mic: this.micOn, camera: this.cameraOn, screen: !!this.screenTrack }));
    };
    dc.onmessage = (ev) => this._onPeerMessage(peer, ev.data);

    // Handlers use this connection's own negotiator: a replaced connection's
    // late events must not reach its successor.
    pc.onnegotiationneeded = () => neg.onNegotiationNeeded();
    pc.onicecandidate = (ev) => neg.onIceCandidate(ev.candidate);
    pc.oniceconnectionstatechange = () => neg.onIceConnectionStateChange();
    pc.onsignalingstatechange = () => neg.onSignalingStateChange();
    pc.onconnectionstatechange = () => {
      if (peer.pc !== pc) return;
      const state = pc.connectionState;
      if (state === "connected" && !peer.safetyCode) this._updateSafetyCode(peer);
      if (state === "connected" && this.timings.firstConnected === undefined) this.timings.firstConnected = performance.now() - this.t0;
      if (state === "failed" && peer.limboTimer) return this._removePeer(peer.id);
      this._emitPeerState(peer);
    };
    pc.ontrack = (ev) => {
      if (peer.pc !== pc) return;
      if (!peer.stream) peer.stream = ev.streams[0] || new MediaStream();
      if (!peer.stream.getTracks().includes(ev.track)) peer.stream.addTrack(ev.track);
      this._emit("track", { peerId: peer.id, track: ev.track, stream: peer.stream });
    };
    pc.ondatachannel = (ev) => {
      if (ev.channel.label.startsWith("file:")) this._receiveFile(peer, ev.channel);
    };
  }

  /**
   * This side's audio and video transceivers; on a connection without any,
   * adding them makes it offer (negotiationneeded).
   * @private
   */
  _addOwnTransceivers(peer) {
    const pc = peer.pc;
    peer.audioTx = pc.addTransceiver(this._localTrack("audio") || "audio", { direction: "sendrecv", streams: [this.localStream] });
    peer.videoTx = pc.addTransceiver(this._localTrack("video") || "video", { direction: "sendrecv", streams: [this.localStream] });
  }

  /**
   * An offer arrives on a connection that has never been negotiated and
   * already holds this side's own transceivers: offers crossed (this side is
   * polite), or its own offer is about to be made. Instead of rolling its
   * offer back, or answering and then offering its own m-lines in a second
   * round, this side starts over with a fresh connection made for the remote
   * offer. Chromium's rollback of a first offer whose ICE gathering has just
   * begun can leave the answer's ICE agent gathering forever (no candidate,
   * state "new"; traced in 4-peer calls where both sides offered at once),
   * and a fresh connection answers in one round with two media m-lines
   * instead of four.
   * @private
   * @param {object} peer
   * @param {{description?:{type:string}}} data the incoming signal
   * @returns {boolean} true when the connection was replaced
   */
  _restartOnFirstGlare(peer, data) {
    const pc = peer.pc;
    if (!data.description || data.description.type !== "offer" || !peer.audioTx) return false;
    if (pc.remoteDescription || pc.currentLocalDescription) return false;
    const offering = pc.signalingState === "have-local-offer" || peer.neg.makingOffer;
    if (offering && !peer.neg.polite) return false; // the impolite side ignores the offer
    peer.neg.close();
    try { pc.close(); } catch {}
    this._connectPeer(peer, { answering: true });
    if (offering) peer.neg.stats.rollbacks++; // counted as the collision it resolves
    return true;
  }

  /**
   * What this side sends of one kind right now (a screen share wins over the camera).
   * @private
   * @param {"audio"|"video"} kind
   * @returns {MediaStreamTrack|null}
   */
  _localTrack(kind) {
    if (kind === "audio") return this.localStream.getAudioTracks()[0] || null;
    return this.screenTrack || this.localStream.getVideoTracks()[0] || null;
  }

  /**
   * On the answering side: sends on the transceivers the remote offer created,
   * so the first answer already carries this side's audio and video.
   * @private
   */
  _adoptTransceivers(peer) {
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      const key = kind === "audio" ? "audioTx" : "videoTx";
      if (peer[key]) continue;
      const t = peer.pc.getTransceivers().find((x) =>
        x.mid !== null && x.currentDirection !== "stopped" && x.receiver.track.kind === kind &&
        x !== peer.audioTx && x !== peer.videoTx);
      const track = this._localTrack(kind);
      if (!t) {
        // An offer without this kind: add one (a renegotiation follows).
        peer[key] = peer.pc.addTransceiver(track || kind, { direction: "sendrecv", streams: [this.localStream] });
        continue;
      }
      t.direction = "sendrecv";
      if (t.sender.setStreams) t.sender.setStreams(this.localStream);
      // replaceTrack is queued on the connection's operations chain, ahead of the answer.
      if (track) t.sender.replaceTrack(track).catch(() => {});
      peer[key] = t;
    }
  }

  /** @private */
  _updateSafetyCode(peer) {
    const l = peer.pc.localDescription, r = peer.pc.remoteDescription;
    const code = l && r ? safetyCodeFromSdp(l.sdp, r.sdp) : null;
    if (code && code !== peer.safetyCode) {
      peer.safetyCode = code;
      this._emit("safety-code", { peerId: peer.id, code });
    }
  }

  /** @private */
  _removePeer(id) {
    const p = this.peersById.get(id);
    if (!p) return;
    this.peersById.delete(id);
    p.closed = true;
    clearTimeout(p.limboTimer);
    clearTimeout(p.offerTimer);
    clearTimeout(p.rejoinTimer);
    p.neg.close();
    for (const t of this.transfers.values()) if (t.peerId === id) t.cancel();
    try { p.pc.close(); } catch {}
    if (p.announced) this._emit("peer-left", { peerId: id });
  }

  /** @private */
  _onPeerMessage(peer, data) {
    const m = P.parsePeerMessage(data);
    if (!m) return;
    switch (m.t) {
      case "chat":
        this._emit("message", { peerId: peer.id, name: peer.name, text: m.text, id: m.id, at: m.at });
        return;
      case "hello":
      case "state":
        if (m.name !== undefined) peer.name = m.name;
        for (const k of ["mic", "camera", "screen"]) if (m[k] !== undefined) peer[k] = m[k];
        this._updateSafetyCode(peer);
        this._emit("peer-updated", { peerId: peer.id, name: peer.name, mic: peer.mic, camera: peer.camera, screen: peer.screen });
        return;
      case "bye":
        peer.bye = true;
        this._removePeer(peer.id);
        return;
      case "rekey":
        this._rekey(peer, m.peerId);
        return;
      default:
    }
  }

  /**
   * A peer is known under a new id (it rejoined signaling): the same
   * connection goes on under that id, and a recovery that waited for
   * signaling to reach it restarts now.
   * @private
   */
  _rekey(peer, newId) {
    const oldId = peer.id;
    const dup = this.peersById.get(newId);
    if (dup && dup !== peer) this._removePeer(newId);
    const pending = this.pendingJoins && this.pendingJoins.get(newId);
    if (pending) { clearTimeout(pending); this.pendingJoins.delete(newId); }
    clearTimeout(peer.limboTimer);
    peer.limboTimer = null;
    clearTimeout(peer.rejoinTimer);
    peer.rejoinTimer = null;
    peer.awaitingRejoin = false;
    if (newId !== oldId) {
      this.peersById.delete(oldId);
      peer.id = newId;
      this.peersById.set(newId, peer);
    }
    peer.neg.polite = P.isPolite(this.peerId, newId);
    if (newId !== oldId) this._emit("peer-rekeyed", { oldPeerId: oldId, peerId: newId });
    if (this._canSignal(peer)) peer.neg.onSignalingReady();
  }

  /**
   * A rejoin notice through signaling: `from` is the peer this side knew as
   * `oldId`. Only names are changed: the connection's DTLS session still
   * authenticates the media, so a false notice can break a connection but
   * not take it over.
   * @private
   */
  _onRejoin(from, oldId) {
    const peer = this.peersById.get(oldId);
    if (!peer || peer.closed) return; // not one of ours (any more), or known by this id already
    // It may know this side by an older id too (both came back to a
    // restarted server): tell it. Its answer to that finds no peer of that
    // id here any more and ends there.
    if (oldId !== from) this._sendRejoin(from);
    this._rekey(peer, from);
  }

  /**
   * Tells a peer the ids this side had before (the last few): the one it
   * knew this side by renames its connection.
   * @private
   */
  _sendRejoin(to) {
    for (const old of (this.pastIds || []).slice(-3)) {
      try { this._send(P.encodeSignal(to, { rejoin: { peerId: old } })); } catch {}
    }
  }

  /**
   * The server no longer lists this peer (it restarted): keep its connection
   * while it may come back with a new id; then drop it unless it still works.
   * @private
   */
  _awaitRejoin(peer) {
    if (peer.awaitingRejoin) return;
    peer.awaitingRejoin = true;
    clearTimeout(peer.rejoinTimer);
    peer.rejoinTimer = setTimeout(() => {
      peer.rejoinTimer = null;
      if (!peer.awaitingRejoin || peer.closed) return;
      if (peer.pc.connectionState !== "connected") this._removePeer(peer.id);
    }, REJOIN_WAIT_MS);
  }

  /**
   * Bytes received per connection, once a second: ICE's consent checks take
   * 5 s or more to call a path dead whose relay went away; a connection that
   * carried media and now receives nothing for STALL_MS is recovered sooner.
   * @private
   */
  async _checkFlows() {
    if (this._checkingFlows) return;
    this._checkingFlows = true;
    try {
      for (const peer of [...this.peersById.values()]) {
        const pc = peer.pc;
        if (peer.closed || !peer.neg.everConnected || pc.connectionState === "closed") continue;
        let bytes = null;
        try {
          (await pc.getStats()).forEach((s) => { if (s.type === "transport") bytes = (bytes || 0) + (s.bytesReceived || 0); });
        } catch { continue; }
        if (bytes === null || peer.pc !== pc) continue;
        const now = Date.now();
        const f = peer.flow;
        if (!f || bytes < f.bytes) { peer.flow = { bytes, at: now, rate: 0 }; continue; }
        if (bytes > f.bytes) {
          f.rate = (bytes - f.bytes) / Math.max(1, now - f.at);
          f.bytes = bytes;
          f.at = now;
          peer.neg.onMediaFlowing();
        } else if (now - f.at >= STALL_MS && f.rate >= FLOWING_BYTES_PER_MS) {
          peer.neg.onMediaStalled();
        }
      }
    } finally {
      this._checkingFlows = false;
    }
  }

  /** Whether an offer to this peer can get there now. @private */
  _canSignal(peer) {
    return this.signalingState === "connected" && !!this.ws && this.ws.readyState === 1 /* OPEN */ &&
      !peer.awaitingRejoin && !peer.limboTimer && !peer.closed;
  }

  /**
   * Fresh ICE servers (new TURN credentials: the relay may be a new one) for
   * a connection about to restart ICE; one request serves every connection.
   * @private
   */
  async _refreshIceServers(pc) {
    const iceServers = await this._freshIceServers();
    if (pc.signalingState === "closed" || typeof pc.setConfiguration !== "function") return;
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch (err) {
      this._emit("error", { code: "negotiation", message: `ICE servers not applied: ${err && err.message}`, fatal: false });
    }
  }

  /** @private */
  _freshIceServers() {
    if (this._iceFetch) return this._iceFetch;
    if (this._iceFetchedAt && Date.now() - this._iceFetchedAt < ICE_REUSE_MS) return Promise.resolve(this.iceServers);
    this._iceFetch = (async () => {
      try {
        const ice = await apiGet(P.iceServersUrl(this.config, this.roomId), this.token, ICE_FETCH_TIMEOUT_MS);
        if (ice && Array.isArray(ice.iceServers) && ice.iceServers.length) {
          this.iceServers = ice.iceServers;
          this._iceFetchedAt = Date.now();
        }
      } catch {
        // unreachable (the server is restarting) or the link expired: the
        // current servers, whose credentials last their TTL; asked again
        // a second later at the earliest
        this._iceFetchedAt = Date.now() - ICE_REUSE_MS + 1000;
      } finally {
        this._iceFetch = null;
      }
      return this.iceServers;
    })();
    return this._iceFetch;
  }

  /**
   * What the SDK tells about a peer: the connection's own state, except that
   * a connection whose media path broke is "reconnecting" while the SDK
   * restarts ICE, and "failed" once it cannot any more (signaling gone for good).
   * @private
   */
  _peerState(peer) {
    const raw = peer.pc.connectionState;
    if (raw === "closed") return raw;
    const stuck = ["expired", "offline", "closed"].includes(this.signalingState);
    // (a connection can look connected while nothing arrives: see _checkFlows)
    if (peer.neg.recovering && peer.neg.everConnected) return stuck && raw === "failed" ? "failed" : "reconnecting";
    if (raw === "connected") return raw;
    if (raw === "disconnected") return "reconnecting";
    if (!peer.neg.everConnected) return raw; // new, connecting, failed: the first connection
    return "reconnecting"; // once connected, anything short of connected again is the recovery
  }

  /** Emits a peer's connection-state when it changed. @private */
  _emitPeerState(peer, attempt) {
    if (peer.closed) return;
    const state = this._peerState(peer);
    if (state === peer.lastState) return;
    peer.lastState = state;
    const detail = { scope: "peer", peerId: peer.id, state };
    if (state === "reconnecting") detail.attempt = attempt ?? peer.neg.attempt;
    this._emit("connection-state", detail);
  }

  /** @private */
  _broadcast(msg) {
    const text = P.encodePeerMessage(msg);
    let n = 0;
    for (const p of this.peersById.values()) {
      if (p.dc.readyState === "open") { p.dc.send(text); n++; }
    }
    return n;
  }

  /** @private */
  _broadcastState() {
    this._broadcast({ t: "state", mic: this.micOn, camera: this.cameraOn, screen: !!this.screenTrack, name: this.name });
  }

  // ------------------------------------------------------------------- media

  /**
   * Turns the microphone on or off (the others see the change).
   * @param {boolean} on
   */
  setMicrophone(on) {
    this.micOn = !!on;
    for (const t of this.localStream.getAudioTracks()) t.enabled = this.micOn;
    this._broadcastState();
  }

  /**
   * Turns the camera on or off (the others see the change).
   * @param {boolean} on
   */
  setCamera(on) {
    this.cameraOn = !!on;
    for (const t of this.localStream.getVideoTracks()) t.enabled = this.cameraOn;
    this._broadcastState();
  }

  /**
   * Sets the name the others see.
   * @param {string} name
   */
  setName(name) {
    this.name = String(name || "").slice(0, 64);
    this._broadcastState();
  }

  /** @private */
  async _replaceVideo(track) {
    // A peer still without transceivers picks up the current track when it answers.
    await Promise.all([...this.peersById.values()].map((p) => p.videoTx && p.videoTx.sender.replaceTrack(track).catch(() => {})));
  }

  /**
   * Shares the screen instead of the camera until `stopScreen()` (or the
   * browser's own "stop sharing").
   * @returns {Promise<MediaStreamTrack>}
   * @throws {OtterError} "screen-denied" when the user refuses
   */
  async shareScreen() {
    if (this.screenTrack) return this.screenTrack;
    let s;
    try {
      s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      throw new OtterError("screen-denied", "screen sharing was not allowed", { cause: err });
    }
    const track = s.getVideoTracks()[0];
    this.screenTrack = track;
    track.addEventListener("ended", () => { if (this.screenTrack === track) this.stopScreen(); });
    await this._replaceVideo(track);
    this._broadcastState();
    return track;
  }

  /** Stops screen sharing and sends the camera again. */
  async stopScreen() {
    const t = this.screenTrack;
    if (!t) return;
    this.screenTrack = null;
    t.stop();
    await this._replaceVideo(this.localStream.getVideoTracks()[0] || null);
    this._broadcastState();
  }

  /**
   * Switches the microphone or camera to another device, without renegotiation.
   * @param {"audioinput"|"videoinput"|"audio"|"video"} kind
   * @param {string} deviceId
   * @returns {Promise<MediaStreamTrack>}
   */
  async switchDevice(kind, deviceId) {
    const k = String(kind).startsWith("audio") ? "audio" : "video";
    const s = await getMedia({ [k]: { deviceId: { exact: deviceId } } });
    const track = (k === "audio" ? s.getAudioTracks() : s.getVideoTracks())[0];
    for (const extra of s.getTracks()) if (extra !== track) extra.stop();
    const old = k === "audio" ? this.localStream.getAudioTracks()[0] : this.localStream.getVideoTracks()[0];
    track.enabled = k === "audio" ? this.micOn : this.cameraOn;
    // The stream first, so a peer that connects meanwhile gets the new track;
    // then every sender; the old device is released only once nothing sends it.
    if (old) this.localStream.removeTrack(old);
    this.localStream.addTrack(track);
    if (k === "audio" || !this.screenTrack) {
      await Promise.all([...this.peersById.values()].map((p) => {
        const tx = k === "audio" ? p.audioTx : p.videoTx;
        return tx && tx.sender.replaceTrack(track).catch(() => {});
      }));
    }
    if (old && old !== track) old.stop();
    return track;
  }

  // -------------------------------------------------------------- chat, files

  /**
   * Sends a chat message to everyone in the room.
   * @param {string} text
   * @returns {{id:string,text:string,at:number,delivered:number}} delivered = number of peers it went to
   */
  send(text) {
    const t = String(text ?? "").trim();
    if (!t) throw new OtterError("bad-message", "empty message");
    if (t.length > 10000) throw new OtterError("bad-message", "messages are limited to 10,000 characters");
    const msg = { t: "chat", text: t, id: newTransferId(), at: Date.now() };
    const delivered = this._broadcast(msg);
    return { id: msg.id, text: t, at: msg.at, delivered };
  }

  /**
   * Sends a file to everyone in the room (or one peer). Chunked over its own
   * DataChannel, flow-controlled, SHA-256 checked by the receiver.
   * @param {File|Blob} file
   * @param {{to?:string}} [opts]
   * @returns {{id:string, name:string, size:number, done:Promise<{sha256:string}[]>, cancel:()=>void}}
   */
  sendFile(file, opts = {}) {
    const id = newTransferId();
    const targets = [...this.peersById.values()].filter((p) => !p.closed && (!opts.to || p.id === opts.to));
    if (!targets.length) throw new OtterError("no-peers", "there is nobody to send the file to");
    const name = file.name || "file";
    const handles = targets.map((peer) => {
      const channel = peer.pc.createDataChannel(`file:${id}`, { ordered: true });
      let last = 0;
      const h = sendFileOnChannel(file, channel, {
        id,
        onProgress: (bytes, size) => {
          const now = performance.now();
          if (bytes < size && now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          this._emit("file-progress", { peerId: peer.id, id, name, direction: "send", bytes, size, state: "sending" });
        },
      });
      const t = { peerId: peer.id, cancel: h.cancel };
      this.transfers.set(`${id}:${peer.id}`, t);
      h.done.then(
        (r) => this._emit("file-progress", { peerId: peer.id, id, name, direction: "send", bytes: file.size, size: file.size, state: "done", sha256: r.sha256 }),
        (err) => this._emit("file-progress", { peerId: peer.id, id, name, direction: "send", bytes: 0, size: file.size, state: err.code === "cancelled" ? "cancelled" : "failed", error: err.message }),
      ).finally(() => this.transfers.delete(`${id}:${peer.id}`));
      return h;
    });
    const done = Promise.all(handles.map((h) => h.done));
    done.catch(() => {});
    return { id, name, size: file.size, done, cancel: () => handles.forEach((h) => h.cancel()) };
  }

  /** @private */
  _receiveFile(peer, channel) {
    channel.binaryType = "arraybuffer";
    const rx = new FileReceiver({ reply: (m) => { try { channel.send(m); } catch {} } });
    let meta = null;
    let last = 0;
    const key = `${channel.label}:${peer.id}:rx`;
    const cancel = () => { rx.cancel(); try { channel.close(); } catch {} };
    this.transfers.set(key, { peerId: peer.id, cancel });
    const progress = (state, bytes, extra = {}) =>
      this._emit("file-progress", { peerId: peer.id, id: meta ? meta.id : "", name: meta ? meta.name : "", direction: "receive", bytes, size: meta ? meta.size : 0, state, ...extra });
    channel.onmessage = (ev) => {
      const out = rx.handle(ev.data);
      switch (out.event) {
        case "offer":
          meta = out.detail;
          this._emit("file-offer", { peerId: peer.id, ...meta, cancel });
          progress("receiving", 0);
          break;
        case "progress": {
          const now = performance.now();
          if (now - last >= PROGRESS_INTERVAL_MS) { last = now; progress("receiving", out.detail.received); }
          break;
        }
        case "done":
          progress("done", out.detail.size, { sha256: out.detail.sha256 });
          this._emit("file-received", { peerId: peer.id, ...out.detail });
          this.transfers.delete(key);
          break;
        case "failed":
          progress("failed", rx.received, { error: out.detail.reason });
          this._emit("error", { code: out.detail.code, message: `file transfer failed: ${out.detail.reason}`, peerId: peer.id, fatal: false });
          this.transfers.delete(key);
          try { channel.close(); } catch {}
          break;
        case "cancelled":
          progress("cancelled", rx.received);
          this.transfers.delete(key);
          break;
        default:
      }
    };
    channel.onclose = () => {
      if (rx.state === "receiving" || rx.state === "waiting") {
        rx.state = "cancelled";
        if (meta) progress("cancelled", rx.received);
      }
      this.transfers.delete(key);
    };
  }

  // ------------------------------------------------------------------- leave

  /** Leaves the call: tells the others, closes every connection, stops local media. */
  leave() {
    if (this.left) return;
    this._broadcast({ t: "bye" });
    this._teardown();
    this._setSignaling("closed");
  }

  /** @private */
  _teardown() {
    this.left = true;
    this._dropSpares();
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    clearInterval(this.flowTimer);
    if (this.pendingJoins) for (const t of this.pendingJoins.values()) clearTimeout(t);
    for (const t of [...this.transfers.values()]) { try { t.cancel(); } catch {} }
    for (const id of [...this.peersById.keys()]) this._removePeer(id);
    if (this.ws) { try { this.ws.close(1000, "leave"); } catch {} this.ws = null; }
    if (this.screenTrack) { this.screenTrack.stop(); this.screenTrack = null; }
    if (this.stopTracksOnLeave) for (const t of this.localStream.getTracks()) t.stop();
  }
}

/** The SDK namespace. */
export const Otter = Object.freeze({
  VERSION, join, prepare, getMedia, resolveConfig, OtterError, Call,
  parseRoomUrl: P.parseRoomUrl,
});
export default Otter;
