// Perfect negotiation (W3C WebRTC §10.7 pattern) for one RTCPeerConnection,
// plus the ICE-restart policy. Works on anything shaped like an
// RTCPeerConnection, so the state machine runs under `node --test` with a fake.
//
// Roles: the peer whose id sorts lower is polite (DESIGN.md). On an offer
// collision the impolite peer ignores the incoming offer; the polite peer rolls
// back its own (implicitly, via setRemoteDescription) and answers.

/**
 * @typedef {object} PcLike
 * @property {string} signalingState
 * @property {string} iceConnectionState
 * @property {{type:string,sdp:string}|null} localDescription
 * @property {(d?:object)=>Promise<void>} setLocalDescription
 * @property {(d:object)=>Promise<void>} setRemoteDescription
 * @property {(c:object|null)=>Promise<void>} addIceCandidate
 * @property {()=>void} [restartIce]
 */

export class Negotiator {
  /**
   * @param {object} opts
   * @param {PcLike} opts.pc
   * @param {boolean} opts.polite
   * @param {(data:object)=>void} opts.send sends `{description}` or `{candidate}` to the remote peer
   * @param {(err:Error)=>void} [opts.onError]
   * @param {{setTimeout:Function,clearTimeout:Function}} [opts.timers]
   * @param {number} [opts.disconnectedGraceMs] how long `disconnected` may last before an ICE restart
   * @param {()=>void} [opts.beforeAnswer] runs after a remote offer is applied and before the answer
   *   is made, so the answer can already carry this side's media (no second offer/answer round)
   * @param {number} [opts.stuckGraceMs] how long ICE may stay "new"/"checking" once an offer/answer
   *   round is done before the impolite side restarts it (the polite side waits twice as long)
   */
  constructor({ pc, polite, send, onError = () => {}, timers = globalThis, disconnectedGraceMs = 2500, beforeAnswer = () => {}, stuckGraceMs = 10000 }) {
    this.pc = pc;
    this.stuckGraceMs = stuckGraceMs;
    this._stuckTimer = null;
    this.beforeAnswer = beforeAnswer;
    this.polite = polite;
    this.send = send;
    this.onError = onError;
    this.timers = timers;
    this.disconnectedGraceMs = disconnectedGraceMs;
    this.makingOffer = false;
    /** while true, negotiationneeded is ignored (a connection waiting for the remote side's offer) */
    this.holdOffers = false;
    this.ignoreOffer = false;
    this.isSettingRemoteAnswerPending = false;
    this.closed = false;
    this.restarts = 0;
    this._disconnectTimer = null;
    /** offers/answers this side sent and received, for tests and diagnostics */
    this.stats = { offersSent: 0, answersSent: 0, offersIgnored: 0, rollbacks: 0 };
  }

  /**
   * Call from `pc.onnegotiationneeded`, or directly after `holdOffers` is
   * lifted (the browser fires the event only when the need first arises).
   */
  async onNegotiationNeeded() {
    if (this.closed || this.holdOffers || this.makingOffer || this.pc.signalingState !== "stable") return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.closed) return;
      const d = this.pc.localDescription;
      if (d && d.type === "offer") {
        this.stats.offersSent++;
        this.send({ description: { type: d.type, sdp: d.sdp } });
      }
    } catch (err) {
      if (!this.closed) this.onError(err); // a closed connection's pending offer fails, as it should
    } finally {
      this.makingOffer = false;
    }
  }

  /** Call from `pc.onicecandidate`. @param {RTCIceCandidate|null} candidate */
  onIceCandidate(candidate) {
    if (this.closed) return;
    const c = candidate && typeof candidate.toJSON === "function" ? candidate.toJSON() : candidate;
    this.send({ candidate: c || null });
  }

  /**
   * Handles a validated signal from the remote peer.
   * @param {{description?:{type:string,sdp:string}, candidate?:object|null}} data
   */
  async onSignal(data) {
    if (this.closed) return;
    try {
      if (data.description) {
        const description = data.description;
        // An answer is expected only while we have a local offer out.
        const readyForOffer =
          !this.makingOffer &&
          (this.pc.signalingState === "stable" || this.isSettingRemoteAnswerPending);
        const offerCollision = description.type === "offer" && !readyForOffer;
        this.ignoreOffer = !this.polite && offerCollision;
        if (this.ignoreOffer) {
          this.stats.offersIgnored++;
          return;
        }
        if (offerCollision) this.stats.rollbacks++;
        this.isSettingRemoteAnswerPending = description.type === "answer";
        await this.pc.setRemoteDescription(description); // rolls back a local offer if needed
        this.isSettingRemoteAnswerPending = false;
        if (this.closed) return;
        if (description.type === "offer") {
          this.beforeAnswer();
          await this.pc.setLocalDescription();
          if (this.closed) return;
          const d = this.pc.localDescription;
          this.stats.answersSent++;
          this.send({ description: { type: d.type, sdp: d.sdp } });
        }
      } else if ("candidate" in data) {
        try {
          await this.pc.addIceCandidate(data.candidate);
        } catch (err) {
          if (!this.ignoreOffer) throw err; // candidates of an ignored offer are expected to fail
        }
      }
    } catch (err) {
      this.isSettingRemoteAnswerPending = false;
      if (!this.closed) this.onError(err);
    }
  }

  /**
   * Call from `pc.oniceconnectionstatechange`. `failed` restarts ICE at once;
   * `disconnected` restarts it if it lasts longer than the grace period.
   * @returns {"restart"|"wait"|"none"} what was done (for tests)
   */
  onIceConnectionStateChange() {
    if (this.closed) return "none";
    const state = this.pc.iceConnectionState;
    if (state === "failed") {
      this._clearDisconnect();
      this.restartIce();
      return "restart";
    }
    if (state === "disconnected") {
      if (!this._disconnectTimer) {
        this._disconnectTimer = this.timers.setTimeout(() => {
          this._disconnectTimer = null;
          if (!this.closed && this.pc.iceConnectionState === "disconnected") this.restartIce();
        }, this.disconnectedGraceMs);
      }
      return "wait";
    }
    this._clearDisconnect();
    if (state === "connected" || state === "completed") this._clearStuck();
    return "none";
  }

  /**
   * Call from `pc.onsignalingstatechange`. Once a round is done, ICE must get
   * somewhere: a connection whose ICE agent never starts (seen in Chromium
   * after offers crossed: no candidate gathered, state "new" for good) or
   * never succeeds would otherwise wait forever, as neither "failed" nor
   * "disconnected" ever comes. Then ICE is restarted.
   * @returns {boolean} whether the watch is armed (for tests)
   */
  onSignalingStateChange() {
    if (this.closed || this._stuckTimer) return !!this._stuckTimer;
    if (this.pc.signalingState !== "stable" || !this.pc.remoteDescription || !this._iceStarting()) return false;
    const wait = this.polite ? 2 * this.stuckGraceMs : this.stuckGraceMs; // not both at once
    this._stuckTimer = this.timers.setTimeout(() => {
      this._stuckTimer = null;
      if (!this.closed && this._iceStarting()) this.restartIce();
    }, wait);
    return true;
  }

  _iceStarting() {
    const s = this.pc.iceConnectionState;
    return s === "new" || s === "checking";
  }

  _clearStuck() {
    if (this._stuckTimer) {
      this.timers.clearTimeout(this._stuckTimer);
      this._stuckTimer = null;
    }
  }

  /** Restarts ICE; negotiationneeded then sends a fresh offer. */
  restartIce() {
    if (this.closed) return;
    this.restarts++;
    if (typeof this.pc.restartIce === "function") this.pc.restartIce();
  }

  /** Stops all activity (the connection itself is closed by its owner). */
  close() {
    this.closed = true;
    this._clearDisconnect();
    this._clearStuck();
  }

  _clearDisconnect() {
    if (this._disconnectTimer) {
      this.timers.clearTimeout(this._disconnectTimer);
      this._disconnectTimer = null;
    }
  }
}
