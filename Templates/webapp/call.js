// A joined call: its state and events, and the public methods; the work is
// done by the modules named below (signaling, membership, peers, recovery,
// media, channels, transfers), each on this object's state.

import { SignalingClient } from "./signaling.js";
import { onWelcome, onServerFrame } from "./membership.js";
import { canSignal, dropSpares, removePeer } from "./peers.js";
import { emitPeerState, peerState } from "./recovery.js";
import * as media from "./media.js";
import { broadcast, broadcastState, sendChat } from "./channels.js";
import { sendFile } from "./transfers.js";

const OFFER_WAIT_MS = 1500;

/** @typedef {import("./otter.js").CallEvents} CallEvents */
/** @typedef {import("./peers.js").Peer} Peer */

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
  /**
   * Made by join().
   * @param {object} o
   * @param {import("./rest.js").ResolvedConfig} o.config
   * @param {string} o.roomId
   * @param {string} o.token
   * @param {any} o.room the room as the server described it
   * @param {RTCIceServer[]} o.iceServers
   * @param {boolean} o.relay
   * @param {MediaStream|null} o.stream
   * @param {string} o.name
   * @param {boolean} o.stopTracksOnLeave
   * @param {RTCCertificate|null} [o.certificate]
   * @param {number} [o.offerWaitMs]
   */
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
    /** @type {string[]} the peerIds this side had before */
    this.pastIds = [];
    /** @type {Map<string, Peer>} */
    this.peersById = new Map();
    /** @type {Map<string, ReturnType<typeof setTimeout>>} peers that may be known ones back under a new id */
    this.pendingJoins = new Map();
    this.left = false;
    /** @type {MediaStreamTrack|null} */
    this.screenTrack = null;
    this.micOn = this.localStream.getAudioTracks().some((t) => t.enabled);
    this.cameraOn = this.localStream.getVideoTracks().some((t) => t.enabled);
    /** @type {Map<string, {peerId:string, cancel:()=>void}>} */
    this.transfers = new Map();
    /** @type {[string, any][]|null} events held until join() returned */
    this._held = [];
    /** @type {{api?:number, welcome?:number, firstConnected?:number}} milliseconds from join() */
    this.timings = {};
    this.t0 = performance.now();
    /** @type {RTCPeerConnection[]} */
    this._spares = [];
    /** @type {Promise<void>[]} */
    this._firstOffers = [];
    /** @type {ReturnType<typeof setInterval>|null} */
    this.flowTimer = null;
    this._checkingFlows = false;
    /** the last flow check found a connection receiving nothing new, or recovering */
    this._flowSuspect = false;
    /** a request for fresh ICE servers in flight, and when it began (Date.now()) */
    /** @type {Promise<RTCIceServer[]>|null} */
    this._iceFetch = null;
    this._iceFetchBegan = 0;
    /** when the request that gave iceServers began (0: none since the call began or the server came back) */
    this._iceFreshSince = 0;
    /** when a request for ICE servers last failed */
    this._iceFailedAt = 0;
    this.signaling = new SignalingClient({
      config, roomId, token,
      onWelcome: (m, first) => {
        if (first) this.timings.welcome = performance.now() - this.t0;
        onWelcome(this, m, first);
        dropSpares(this);
      },
      onConnected: (first) => {
        if (!first) for (const p of this.peersById.values()) if (canSignal(this, p)) p.neg.onSignalingReady();
      },
      onFrame: (m) => onServerFrame(this, m),
      onState: (state) => {
        this._emit("connection-state", { scope: "signaling", state });
        // a recovery that now cannot signal any more has failed
        for (const p of this.peersById.values()) emitPeerState(this, p);
      },
      onGaveUp: (err) => this._emit("error", { code: err.code, message: err.message, fatal: false }),
      isRecovering: () => [...this.peersById.values()].some((p) => p.neg.recovering),
    });
  }

  /** @type {import("./otter.js").SignalingState} */
  get signalingState() {
    return this.signaling.state;
  }

  /**
   * Subscribes to an event.
   * @template {keyof CallEvents} K
   * @param {K} type
   * @param {(detail:CallEvents[K])=>void} fn
   * @returns {()=>void} unsubscribe
   */
  on(type, fn) {
    /** @param {Event} ev */
    const l = (ev) => fn(/** @type {CustomEvent} */ (ev).detail);
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /**
   * Emits an event (for the SDK's modules).
   * @template {keyof CallEvents} K
   * @param {K} type
   * @param {CallEvents[K]} detail
   */
  _emit(type, detail) {
    // Until join() has returned and the caller had a chance to subscribe,
    // events (peers from the welcome, their first tracks) are held, not lost.
    if (this._held) { this._held.push([type, detail]); return; }
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Delivers the events held until join() returned (for join()). */
  _releaseEvents() {
    const held = this._held || [];
    this._held = null;
    for (const [type, detail] of held) this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * The remote peers and what is known about them.
   * @returns {import("./otter.js").PeerInfo[]}
   */
  get peers() {
    return [...this.peersById.values()].filter((p) => !p.closed && p.announced).map((p) => ({
      peerId: p.id, name: p.name, state: peerState(this, p), mic: p.mic, camera: p.camera, screen: p.screen, safetyCode: p.safetyCode,
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

  /**
   * Turns the microphone on or off (the others see the change).
   * @param {boolean} on
   */
  setMicrophone(on) { media.setMicrophone(this, on); }

  /**
   * Turns the camera on or off (the others see the change).
   * @param {boolean} on
   */
  setCamera(on) { media.setCamera(this, on); }

  /**
   * Sets the name the others see.
   * @param {string} name
   */
  setName(name) {
    this.name = String(name || "").slice(0, 64);
    broadcastState(this);
  }

  /**
   * Shares the screen instead of the camera until `stopScreen()` (or the
   * browser's own "stop sharing").
   * @returns {Promise<MediaStreamTrack>}
   * @throws {OtterError} "screen-denied" when the user refuses
   */
  shareScreen() { return media.shareScreen(this); }

  /** Stops screen sharing and sends the camera again. @returns {Promise<void>} */
  stopScreen() { return media.stopScreen(this); }

  /**
   * Switches the microphone or camera to another device, without renegotiation.
   * @param {"audioinput"|"videoinput"|"audio"|"video"} kind
   * @param {string} deviceId
   * @returns {Promise<MediaStreamTrack>}
   */
  switchDevice(kind, deviceId) { return media.switchDevice(this, kind, deviceId); }

  /**
   * Sends a chat message to everyone in the room.
   * @param {string} text
   * @returns {{id:string,text:string,at:number,delivered:number}} delivered = number of peers it went to
   */
  send(text) { return sendChat(this, text); }

  /**
   * Sends a file to everyone in the room (or one peer). Chunked over its own
   * DataChannel, flow-controlled, SHA-256 checked by the receiver.
   * @param {File|Blob} file
   * @param {{to?:string}} [opts]
   * @returns {import("./otter.js").FileTransfer}
   */
  sendFile(file, opts = {}) { return sendFile(this, file, opts); }

  /** Leaves the call: tells the others, closes every connection, stops local media. */
  leave() {
    if (this.left) return;
    broadcast(this, { t: "bye" });
    this._teardown();
    this.signaling.setState("closed");
  }

  /** Ends everything without telling anyone (for leave() and a failed join()). */
  _teardown() {
    this.left = true;
    dropSpares(this);
    this.signaling.closed = true;
    if (this.flowTimer) clearInterval(this.flowTimer);
    for (const t of this.pendingJoins.values()) clearTimeout(t);
    for (const t of [...this.transfers.values()]) { try { t.cancel(); } catch {} }
    for (const id of [...this.peersById.keys()]) removePeer(this, id);
    this.signaling.close();
    if (this.screenTrack) { this.screenTrack.stop(); this.screenTrack = null; }
    if (this.stopTracksOnLeave) for (const t of this.localStream.getTracks()) t.stop();
  }
}
