// The signaling connection (DESIGN.md): one WebSocket to the server, its
// welcome, keep-alive pings, and reconnects with backoff when it drops.
// What the frames mean for the call is the owner's business (callbacks).

import * as P from "./protocol.js";
import { OtterError } from "./errors.js";
import { apiGet, roomApiUrl } from "./rest.js";

const WELCOME_TIMEOUT_MS = 10000;
const PING_INTERVAL_MS = 25000;
const SIGNALING_RETRY_MAX_MS = 5000;
const SIGNALING_RETRY_RECOVERING_MS = 2000;
// A recovery pings signaling: no frame back within this long, and the socket is
// taken for dead (a changed address leaves its TCP connection silent for minutes).
const SIGNALING_PROBE_MS = 1500;
// A rejoin refused as room-full may be refused for this side's own old seat:
// its dead socket (the address changed) holds the seat until the server's
// ping (every 30 s) finds it. Rejoins go on this long before giving up.
const ROOM_FULL_RETRY_MS = 75000;

/** @typedef {import("./otter.js").SignalingState} SignalingState */
/** @typedef {NonNullable<ReturnType<typeof P.parseServerFrame>>} ServerFrame */

/**
 * @typedef {object} SignalingHandlers
 * @property {(m:Extract<ServerFrame,{type:"welcome"}>, first:boolean)=>void} onWelcome before the state turns "connected"
 * @property {(first:boolean)=>void} onConnected after it did
 * @property {(m:ServerFrame)=>void} onFrame every frame after the welcome
 * @property {(state:SignalingState)=>void} onState
 * @property {(err:OtterError)=>void} onGaveUp reconnecting ended for good (link expired, room full)
 * @property {()=>boolean} isRecovering whether a connection waits on signaling to recover its media
 */

export class SignalingClient {
  /**
   * @param {{config:import("./rest.js").ResolvedConfig, roomId:string, token:string, roomFullRetryMs?:number} & SignalingHandlers} opts
   */
  constructor(opts) {
    this.opts = opts;
    this.roomFullRetryMs = opts.roomFullRetryMs ?? ROOM_FULL_RETRY_MS;
    /** when rejoins began to be refused as room-full (performance.now()), or 0 */
    this.fullSince = 0;
    /** @type {WebSocket|null} */
    this.ws = null;
    /** @type {SignalingState} */
    this.state = "connecting";
    this.closed = false;
    this.attempt = 0;
    /** @type {ReturnType<typeof setTimeout>|null} */
    this.reconnectTimer = null;
    /** @type {ReturnType<typeof setInterval>|undefined} */
    this.pingTimer = undefined;
    /** when the last server frame arrived (performance.now()) */
    this.heardAt = 0;
    this.probing = false;
    /** @type {{peerId:string, key:string}|null} the last welcome's seat, for a rejoin to take over */
    this.resume = null;
  }

  /** Whether a frame sent now goes out. */
  get open() {
    return this.state === "connected" && !!this.ws && this.ws.readyState === 1 /* OPEN */;
  }

  /**
   * Opens the socket, sends the join and resolves on the welcome.
   * @param {boolean} first
   * @param {WebSocket|null} [early] a socket join() opened already
   * @returns {Promise<void>}
   */
  connect(first, early = null) {
    const { config, roomId, token } = this.opts;
    return new Promise((resolve, reject) => {
      let settled = false;
      /** @param {OtterError} [err] */
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
        ws ||= new WebSocket(P.signalSocketUrl(config.signalUrl, token));
      } catch (err) {
        return done(new OtterError("bad-config", `bad signaling URL: ${err.message}`));
      }
      this.ws = ws;
      let welcomed = false;
      if (ws.readyState === WebSocket.OPEN) ws.send(P.encodeJoin(this.resume));
      else ws.onopen = () => ws.send(P.encodeJoin(this.resume));
      ws.onmessage = (ev) => {
        this.heardAt = performance.now();
        const m = P.parseServerFrame(typeof ev.data === "string" ? ev.data : "");
        if (!m) return;
        if (m.type === "welcome") {
          welcomed = true;
          this.attempt = 0;
          this.fullSince = 0;
          this.resume = m.resume ? { peerId: m.peerId, key: m.resume } : null;
          this.opts.onWelcome(m, first);
          this.setState("connected");
          this.opts.onConnected(first);
          done();
          return;
        }
        if (m.type === "error" && !welcomed) {
          if (m.code === "room-full") done(new OtterError("room-full", m.message || "this room is full"));
          else if (m.code === "token-expired") done(new OtterError("token-expired", m.message || P.MESSAGES["token-expired"]));
          else done(new OtterError("signaling-unavailable", m.message || m.code));
          return;
        }
        this.opts.onFrame(m);
      };
      ws.onclose = async () => {
        if (this.ws === ws) this.ws = null;
        clearInterval(this.pingTimer);
        if (!welcomed) {
          if (settled) return;
          // The server refuses a bad token before the socket opens; find out why.
          try {
            await apiGet(roomApiUrl(config, roomId), token);
            done(new OtterError("signaling-unavailable", "the signaling connection was refused"));
          } catch (err) {
            done(err);
          }
          return;
        }
        if (!this.closed) this.scheduleReconnect();
      };
      ws.onerror = () => {};
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(P.encodePing());
      }, PING_INTERVAL_MS);
    });
  }

  /** @param {SignalingState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.opts.onState(state);
  }

  /** @param {boolean} [now] reconnect at once (a probe found the socket dead while media waits on it) */
  scheduleReconnect(now = false) {
    if (this.closed || this.reconnectTimer) return;
    if (P.isTokenExpired(this.opts.token)) {
      // The link expired mid-call: running connections go on, only new
      // signaling (new peers, ICE restarts) is no longer possible.
      this.setState("expired");
      return;
    }
    this.setState("reconnecting");
    // At most 5 s apart, 2 s while a connection waits on signaling to
    // recover (its relay restarted with the server): its media is down.
    const max = this.opts.isRecovering() ? SIGNALING_RETRY_RECOVERING_MS : SIGNALING_RETRY_MAX_MS;
    const delay = now ? 0 : P.backoffDelay(this.attempt++, { max });
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      if (this.closed) return;
      try {
        await this.connect(false);
      } catch (err) {
        if (err.code === "token-expired" || err.code === "invalid-link" || err.code === "room-not-found") {
          this.setState("expired");
          this.opts.onGaveUp(err);
          return;
        }
        if (err.code === "room-full") {
          // perhaps this side's own old seat, not yet freed: try again for a while
          const now = performance.now();
          if (!this.fullSince) this.fullSince = now;
          if (now - this.fullSince < this.roomFullRetryMs) { this.scheduleReconnect(); return; }
          this.fullSince = 0;
          this.setState("offline");
          this.opts.onGaveUp(err);
          return;
        }
        this.scheduleReconnect();
      }
    }, delay);
  }

  /**
   * A connection's path broke: the socket may have broken with it (the
   * network changed) without a word, and the ICE restart's offer would be
   * lost in it. A ping must be answered in time; else the socket is dropped
   * and signaling reconnects at once.
   */
  probe() {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1 /* OPEN */ || this.probing) return;
    const sentAt = performance.now();
    this.probing = true;
    ws.send(P.encodePing());
    setTimeout(() => {
      this.probing = false;
      if (this.ws !== ws || this.closed || this.heardAt >= sentAt) return;
      ws.onclose = null;
      ws.onmessage = null;
      try { ws.close(); } catch {}
      this.ws = null;
      clearInterval(this.pingTimer);
      this.scheduleReconnect(true);
    }, SIGNALING_PROBE_MS);
  }

  /**
   * @param {string} text a frame
   * @returns {boolean} whether it went out
   */
  send(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(text);
      return true;
    }
    return false;
  }

  /** Closes the socket for good: no reconnect follows. */
  close() {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    if (this.ws) { try { this.ws.close(1000, "leave"); } catch {} this.ws = null; }
  }
}
