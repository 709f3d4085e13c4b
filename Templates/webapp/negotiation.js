// Perfect negotiation (W3C WebRTC §10.7 pattern) for one RTCPeerConnection,
// plus the ICE-restart policy that brings a call back when its path (e.g. the
// TURN relay) went away. Works on anything shaped like an RTCPeerConnection,
// so the state machine runs under `node --test` with a fake.
//
// Roles: the peer whose id sorts lower is polite (DESIGN.md). On an offer
// collision the impolite peer ignores the incoming offer; the polite peer rolls
// back its own (implicitly, via setRemoteDescription) and answers.

/**
 * @typedef {object} PcLike
 * @property {string} signalingState
 * @property {string} iceConnectionState
 * @property {{type:string,sdp:string}|null} localDescription
 * @property {{type:string,sdp:string}|null} [remoteDescription]
 * @property {(d?:object)=>Promise<void>} setLocalDescription
 * @property {(d:object)=>Promise<void>} setRemoteDescription
 * @property {(c:object|null)=>Promise<void>} addIceCandidate
 * @property {()=>void} [restartIce]
 */

/**
 * How long a recovery waits after an ICE restart before trying again: doubles
 * per attempt up to `max`, ±25 % jitter so both ends of a pair do not retry in
 * step (their offers would cross every time).
 * @param {number} attempt 1 after the first restart
 * @param {{base?:number, max?:number, random?:()=>number}} opts (optional)
 * @returns {number} milliseconds
 */
export function retryDelay(attempt, { base = 4000, max = 30000, random = Math.random } = {}) {
  const d = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt - 1, 20)));
  return Math.round(d * (0.75 + random() * 0.5));
}

/**
 * Whether an offer restarts ICE: its ICE credentials differ from those of the
 * remote description in place (RFC 8839 §4.4.1.1.1: a new ufrag/pwd is a restart).
 * @param {{sdp:string}|null|undefined} current
 * @param {{sdp:string}} offer
 * @returns {boolean}
 */
export function isIceRestart(current, offer) {
  const ufrag = (/** @type {string|undefined} */ sdp) => {
    const m = /^a=ice-ufrag:(\S+)/m.exec(sdp || "");
    return m ? m[1] : null;
  };
  const before = ufrag(current && current.sdp), after = ufrag(offer.sdp);
  return !!before && !!after && before !== after;
}

/**
 * Whether a remote candidate says more than "here is a host address": a
 * server-reflexive, peer-reflexive or relay candidate (RFC 8839 §5.1
 * `typ`), or the end of candidates (null or an empty candidate string).
 * @param {{candidate?:string}|null|undefined} c
 * @returns {boolean}
 */
export function beyondHost(c) {
  if (!c || !c.candidate) return true;
  return / typ (srflx|prflx|relay)\b/.test(c.candidate);
}

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
   * @param {(since:number)=>Promise<void>|void} [opts.prepareRestart] runs when a recovery begins and before
   *   each of its restarts (the SDK fetches fresh ICE servers and sets them on the connection); `since` is
   *   when the recovery began (Date.now()): servers fetched before it may predate the loss
   * @param {()=>boolean} [opts.canSignal] whether an offer can reach the remote peer now (signaling
   *   up, the peer's current id known); a restart waits for onSignalingReady() otherwise
   * @param {(state:"reconnecting"|"connected", attempt:number)=>void} [opts.onRecovery] a recovery began
   *   (ICE disconnected or failed) or ended (ICE connected again)
   * @param {number} [opts.retryBaseMs] first wait for a restart to work before the next one (doubles)
   * @param {number} [opts.retryMaxMs] longest wait between restarts
   * @param {number} [opts.politeDelayMs] the polite side starts its restarts this much later, and not
   *   at all when the remote's restart offer came meanwhile (fewer crossed offers)
   * @param {()=>number} [opts.random] for the retry jitter (tests)
   * @param {number} [opts.prepareWaitMs] how long the answer to the remote side's ICE restart waits for
   *   prepareRestart() (fresh ICE servers) at most
   * @param {number} [opts.offerTimeoutMs] an offer still unanswered after this long is taken as lost (the
   *   signaling server keeps nothing for a peer whose socket just died): rolled back and made again, else
   *   this side would wait for its answer for good and, impolite, ignore every offer of the remote side
   * @param {number} [opts.firstAnswerDelayMs] the first answer on the connection waits after beforeAnswer
   *   until the remote side's first candidate other than a host one (or its end of candidates) has been
   *   added, at most this long (later answers, ICE restarts included, are not held); the SDK's reason is
   *   at FIRST_ANSWER_DELAY_MS in peers.js
   */
  constructor({
    pc, polite, send, onError = () => {}, timers = globalThis, disconnectedGraceMs = 800, beforeAnswer = () => {},
    stuckGraceMs = 10000, prepareRestart = () => {}, canSignal = () => true, onRecovery = () => {},
    retryBaseMs = 2500, retryMaxMs = 30000, politeDelayMs = 500, random = Math.random, prepareWaitMs = 2000,
    firstAnswerDelayMs = 0, offerTimeoutMs = 8000,
  }) {
    this.offerTimeoutMs = offerTimeoutMs;
    /** fires when the offer out has waited offerTimeoutMs for its answer */
    this._offerTimer = null;
    this.firstAnswerDelayMs = firstAnswerDelayMs;
    /** an answer was set on this connection */
    this._answered = false;
    /** the remote side sent a server-reflexive or relay candidate, or its end of candidates */
    this._remoteBeyondHost = false;
    /** ends the first answer's hold early (set while it is held) */
    this._endHold = null;
    this.pc = pc;
    this.prepareRestart = prepareRestart;
    this.canSignal = canSignal;
    this.onRecovery = onRecovery;
    this.retryBaseMs = retryBaseMs;
    this.retryMaxMs = retryMaxMs;
    this.politeDelayMs = politeDelayMs;
    this.prepareWaitMs = prepareWaitMs;
    this.random = random;
    /** ICE has been connected at least once on this connection */
    this.everConnected = false;
    /** ICE went disconnected/failed and is not connected again yet */
    this.recovering = false;
    /** restarts made in the current recovery */
    this.attempt = 0;
    /** when the current (or last) recovery began, Date.now() */
    this.recoveryBegan = 0;
    this._restartTimer = null;
    this._retryTimer = null;
    this._waitingForSignaling = false;
    this._remoteOffers = 0;
    this._preparing = null;
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
    this.stats = { offersSent: 0, answersSent: 0, offersIgnored: 0, rollbacks: 0, offersLost: 0, answersDropped: 0 };
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
        this._watchOffer(d.sdp);
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
        // An answer to an offer given up as lost (rolled back, see _offerLost)
        // may still come: no offer of ours waits for it any more.
        if (description.type === "answer" && this.pc.signalingState !== "have-local-offer") {
          this.stats.answersDropped++;
          return;
        }
        if (offerCollision) this.stats.rollbacks++;
        if (description.type === "offer") this._remoteOffers++;
        // The remote side restarts ICE (new credentials in its offer): its
        // path broke, so this side's did too, whether or not it noticed yet.
        // It recovers with it: "reconnecting", and fresh ICE servers (the
        // relay may have restarted and forgotten its credentials) set before
        // the answer starts gathering.
        const remoteRestart = description.type === "offer" && this.everConnected &&
          isIceRestart(this.pc.remoteDescription, description);
        this.isSettingRemoteAnswerPending = description.type === "answer";
        await this.pc.setRemoteDescription(description); // rolls back a local offer if needed
        this.isSettingRemoteAnswerPending = false;
        this._clearOfferWatch(); // answered, or rolled back for the remote offer
        if (this.closed) return;
        if (remoteRestart) await this._joinRemoteRestart();
        if (this.closed) return;
        if (description.type === "offer") {
          this.beforeAnswer();
          // The first answer on a connection waits for the remote side's first
          // non-host candidate, or a moment at most (see firstAnswerDelayMs).
          if (!this._answered && this.firstAnswerDelayMs > 0 && !this._remoteBeyondHost) {
            await new Promise((resolve) => {
              const timer = this.timers.setTimeout(() => { this._endHold = null; resolve(); }, this.firstAnswerDelayMs);
              this._endHold = () => { this._endHold = null; this.timers.clearTimeout(timer); resolve(); };
            });
            if (this.closed) return;
          }
          this._answered = true;
          await this.pc.setLocalDescription();
          if (this.closed) return;
          const d = this.pc.localDescription;
          this.stats.answersSent++;
          this.send({ description: { type: d.type, sdp: d.sdp } });
        }
      } else if ("candidate" in data) {
        try {
          // Queued on the connection's operations chain before the held
          // answer's setLocalDescription, which the hold's end lets run.
          const added = this.pc.addIceCandidate(data.candidate);
          if (!this._remoteBeyondHost && beyondHost(data.candidate)) {
            this._remoteBeyondHost = true;
            if (this._endHold) this._endHold();
          }
          await added;
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
   * Call from `pc.oniceconnectionstatechange`. Begins a recovery on
   * `disconnected` (ICE restart if it lasts longer than the grace period) or
   * `failed` (restart at once); ends it once ICE is connected again.
   * @returns {"restart"|"wait"|"none"} what was decided (for tests)
   */
  onIceConnectionStateChange() {
    if (this.closed) return "none";
    const state = this.pc.iceConnectionState;
    if (state === "connected" || state === "completed") {
      this.everConnected = true;
      this._clearDisconnect();
      this._clearStuck();
      if (this.recovering) this._endRecovery();
      return "none";
    }
    if (state === "failed") {
      this._clearDisconnect();
      this._beginRecovery();
      // A restart already on its way is given its time; the retry follows.
      if (this._retryTimer || this._restartTimer || this._waitingForSignaling) return "wait";
      this._scheduleRestart(0);
      return "restart";
    }
    if (state === "disconnected") {
      this._beginRecovery();
      if (!this._disconnectTimer && !this._restartTimer && !this._retryTimer && !this._waitingForSignaling) {
        const grace = this.disconnectedGraceMs + (this.polite ? this.politeDelayMs : 0);
        const offers = this._remoteOffers;
        this._disconnectTimer = this.timers.setTimeout(() => {
          this._disconnectTimer = null;
          if (this.closed || !this.recovering) return;
          // the remote side restarted meanwhile: give its restart time
          if (this._remoteOffers !== offers || !this._iceDown()) return this._armRetry();
          this._restartNow();
        }, grace);
      }
      return "wait";
    }
    return "none";
  }

  /**
   * Call when nothing arrives on a connection that carried media, while ICE
   * still says connected: a dead relay or path shows here seconds before ICE
   * consent checks notice. Recovers as if ICE had failed.
   * @returns {boolean} whether a recovery began
   */
  onMediaStalled() {
    if (this.closed || !this.everConnected || this.recovering) return false;
    this._stalled = true;
    this._clearDisconnect();
    this._beginRecovery();
    this._scheduleRestart(0);
    return true;
  }

  /** Call when data arrives on the connection again: ends a recovery if ICE is connected. */
  onMediaFlowing() {
    if (!this.closed && this.recovering && this._iceUp()) this._endRecovery();
  }

  /**
   * Call when offers can reach the remote peer again (signaling reconnected,
   * the peer's new id known): a recovery that waited for it restarts now. An
   * offer still out was sent into the outage and is given up.
   */
  onSignalingReady() {
    if (this.closed) return;
    if (!this.recovering || this._recovered()) {
      // an offer out went to the old socket or the peer's old id: nobody will answer it
      if (this.pc.signalingState === "have-local-offer" && !this.makingOffer) this._offerLost();
      return;
    }
    this._clearRetry();
    this._clearDisconnect();
    this._waitingForSignaling = false;
    this._staleOffer = true;
    // a request for ICE servers made before signaling came back may hang on
    // the old path (the network changed): the restart makes its own
    this._preparing = null;
    this._scheduleRestart(0);
  }

  /**
   * The remote side's ICE restart offer was applied: begin (or go on with)
   * this side's recovery and wait, briefly, for its fresh ICE servers. A
   * retry is armed in case the remote's restart does not get through.
   */
  async _joinRemoteRestart() {
    if (!this.recovering) {
      this._beginRecovery();
      this._armRetry();
    }
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let timer;
    await Promise.race([this._prepare(), new Promise((r) => { timer = this.timers.setTimeout(r, this.prepareWaitMs); })]);
    this.timers.clearTimeout(timer);
  }

  _iceUp() {
    const s = this.pc.iceConnectionState;
    return s === "connected" || s === "completed";
  }

  /** ICE connected, and not a connection ICE calls connected while nothing arrives */
  _recovered() {
    return this._iceUp() && !this._stalled;
  }

  _iceDown() {
    const s = this.pc.iceConnectionState;
    return s === "disconnected" || s === "failed";
  }

  _beginRecovery() {
    if (!this.recovering) {
      this.recovering = true;
      this.attempt = 0;
      this.recoveryBegan = Date.now();
      this.onRecovery("reconnecting", 0);
    }
    this._prepare(); // fresh ICE servers while the grace runs
  }

  _endRecovery() {
    this.recovering = false;
    const attempts = this.attempt;
    this.attempt = 0;
    this._waitingForSignaling = false;
    this._staleOffer = false;
    this._stalled = false;
    this._clearRetry();
    this._clearRestart();
    // ICE came back on its own while a restart offer was out: that offer may
    // have gone into the outage, and nothing else would ever replace it
    const d = this.pc.localDescription;
    if (this.pc.signalingState === "have-local-offer" && d && !this.makingOffer) this._watchOffer(d.sdp);
    this.onRecovery("connected", attempts);
  }

  _prepare() {
    if (!this._preparing) {
      this._preparing = (async () => {
        try {
          await this.prepareRestart(this.recoveryBegan);
        } catch {
          // the servers it had still work until their credentials expire
        } finally {
          this._preparing = null;
        }
      })();
    }
    return this._preparing;
  }

  /** A restart after `delay` (plus the polite side's delay), skipped if the remote restarted first. */
  _scheduleRestart(delay) {
    this._clearRestart();
    const wait = delay + (this.polite ? this.politeDelayMs : 0);
    const offers = this._remoteOffers;
    this._restartTimer = this.timers.setTimeout(() => {
      this._restartTimer = null;
      if (this.closed || !this.recovering) return;
      // the remote side's restart offer was applied meanwhile (through
      // signaling that works: a stale offer of ours was rolled back for it):
      // a restart of ours now would discard its ICE checks under way
      if (this._remoteOffers !== offers) return this._armRetry();
      this._restartNow();
    }, wait);
  }

  /** Fresh ICE servers, then an ICE restart (offer with new credentials); then wait for it to work. */
  async _restartNow() {
    this._clearRestart();
    this._clearDisconnect();
    this._clearRetry();
    if (this.closed || !this.recovering || this._recovered()) return;
    await this._prepare();
    if (this.closed || !this.recovering || this._recovered()) return;
    if (!this.canSignal()) {
      // the offer would be lost: onSignalingReady() comes back here
      this._waitingForSignaling = true;
      return;
    }
    this._waitingForSignaling = false;
    this.attempt++;
    // An offer still unanswered after a whole retry period (or sent while
    // signaling was down) never arrived: roll it back, else the new one
    // would wait behind it for good.
    if (this.pc.signalingState === "have-local-offer" && !this.makingOffer && (this.attempt > 1 || this._staleOffer)) {
      try {
        await this.pc.setLocalDescription({ type: "rollback" });
        this.stats.rollbacks++;
      } catch {}
      if (this.closed || !this.recovering || this._recovered()) return;
    }
    this._staleOffer = false;
    this.restartIce();
    // after a rollback Chromium may not fire negotiationneeded again: offer
    // now (the event, if it comes, finds the offer made)
    if (this.pc.signalingState === "stable") this.onNegotiationNeeded();
    this._armRetry();
  }

  /** Arms the wait for the answer to the offer with this SDP (see offerTimeoutMs). */
  _watchOffer(sdp) {
    this._clearOfferWatch();
    if (!(this.offerTimeoutMs > 0)) return;
    this._offerTimer = this.timers.setTimeout(() => {
      this._offerTimer = null;
      const d = this.pc.localDescription;
      if (this.closed || this.makingOffer || this.pc.signalingState !== "have-local-offer" || !d || d.sdp !== sdp) return;
      // a recovery replaces its unanswered offers itself (_restartNow), with
      // backoff; one still out when it ends is watched again (_endRecovery)
      if (this.recovering) return;
      this._offerLost();
    }, this.offerTimeoutMs);
  }

  _clearOfferWatch() {
    if (this._offerTimer) {
      this.timers.clearTimeout(this._offerTimer);
      this._offerTimer = null;
    }
  }

  /**
   * The offer out will get no answer: rolls it back and offers again (with an
   * ICE restart if ICE is down), or leaves that to onSignalingReady() while
   * no offer can get through.
   */
  async _offerLost() {
    this._clearOfferWatch();
    if (this.closed || !this.canSignal()) return;
    try {
      await this.pc.setLocalDescription({ type: "rollback" });
    } catch {
      return; // the answer came meanwhile, or a remote offer rolled it back
    }
    this.stats.rollbacks++;
    this.stats.offersLost++;
    if (this.closed) return;
    if (this._iceDown()) this.restartIce();
    // after a rollback Chromium may not fire negotiationneeded again
    if (this.pc.signalingState === "stable") this.onNegotiationNeeded();
  }

  _armRetry() {
    this._clearRetry();
    if (this.closed || !this.recovering) return;
    const ms = retryDelay(Math.max(1, this.attempt), { base: this.retryBaseMs, max: this.retryMaxMs, random: this.random });
    this._retryTimer = this.timers.setTimeout(() => {
      this._retryTimer = null;
      if (this.closed || !this.recovering || this._recovered()) return;
      this._restartNow();
    }, ms);
  }

  _clearRetry() {
    if (this._retryTimer) {
      this.timers.clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  _clearRestart() {
    if (this._restartTimer) {
      this.timers.clearTimeout(this._restartTimer);
      this._restartTimer = null;
    }
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
      // a recovery's own retries cover a restart that does not get through
      if (!this.closed && !this.recovering && this._iceStarting()) this.restartIce();
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
    this._clearOfferWatch();
    this._clearDisconnect();
    this._clearStuck();
    this._clearRetry();
    this._clearRestart();
  }

  _clearDisconnect() {
    if (this._disconnectTimer) {
      this.timers.clearTimeout(this._disconnectTimer);
      this._disconnectTimer = null;
    }
  }
}
