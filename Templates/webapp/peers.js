// The call's peer connections: one RTCPeerConnection per remote peer, each
// with its negotiator (negotiation.js) and chat channel; the spare
// connections made ahead of the welcome; a first offer crossing this side's.

import * as P from "./protocol.js";
import { Negotiator } from "./negotiation.js";
import { safetyCodeFromSdp } from "./safety.js";
import { openChatChannel } from "./channels.js";
import { receiveFile } from "./transfers.js";
import { addOwnTransceivers, adoptTransceivers } from "./media.js";
import { emitPeerState, refreshIceServers, watchFlows } from "./recovery.js";

/** @typedef {import("./call.js").Call} Call */

/**
 * The longest a connection's first answer is held after the remote offer is
 * applied and this side's tracks are put on it, waiting for the remote side's
 * first candidate other than a host one (Negotiator's firstAnswerDelayMs).
 * Where one side can only get out over TURN/TCP, Chromium checks candidate
 * pairs one at a time (~50 ms apart, by priority), and the answerer's own
 * relay candidates paired with the other side's unreachable host candidate
 * outrank the one pair that works; if they are gathered before the working
 * pair's turn comes, the call connects ~180 ms later (docs/BENCHMARKS.md,
 * issue 20, "check-order race"). Answering at once started this side's
 * gathering and checks a few ms before the other side's TURN/TCP candidate
 * reached it, and lost that race twice as often as a bare page. A fixed
 * 15 ms hold fixed that but cost its 15 ms on every other path (~10 % of a
 * quiet machine's direct call); holding only until the other side's
 * server-reflexive or relay candidate has been added (on open paths it comes
 * within a few ms) keeps the fix where it matters and most of the time
 * elsewhere. Only the first answer: an ICE restart's answer is not held.
 */
export const FIRST_ANSWER_DELAY_MS = 15;

/**
 * One remote peer and what is known about it.
 * @typedef {object} Peer
 * @property {string} id its current peerId
 * @property {RTCPeerConnection} pc
 * @property {Negotiator} neg
 * @property {RTCDataChannel} dc the chat channel
 * @property {string} name
 * @property {boolean} mic
 * @property {boolean} camera
 * @property {boolean} screen
 * @property {string|null} safetyCode
 * @property {boolean} closed
 * @property {MediaStream|null} stream what it sends
 * @property {boolean} bye it said it leaves
 * @property {ReturnType<typeof setTimeout>|null} limboTimer the server says it left, its media still flows
 * @property {ReturnType<typeof setTimeout>|null} offerTimer this side offers if the newcomer does not
 * @property {import("./otter.js").PeerConnectionState} lastState the state last told
 * @property {RTCRtpTransceiver|null} audioTx
 * @property {RTCRtpTransceiver|null} videoTx
 * @property {boolean} announced peer-joined was emitted
 * @property {boolean} awaitingRejoin the restarted server forgot it: it may come back with a new id
 * @property {ReturnType<typeof setTimeout>|null} rejoinTimer
 * @property {{bytes:number, at:number, rate:number}|null} flow bytes received, for the stall check
 */

/**
 * The configuration of a new connection. No ICE candidate pool
 * (`iceCandidatePoolSize`), on any connection: in Chromium 156 it bought
 * nothing (verbose WebRTC logs in the network lab, docs/BENCHMARKS.md,
 * issue 20).
 * - The connection made to answer a newcomer (membership.js) never used
 *   its pool: Chromium dropped the pooled gathering and started a new one
 *   when the answer was set, so the pool only held sockets (and, given
 *   time, TURN allocations) for nothing.
 * - A spare (makeSpares) is made 15-30 ms before its offer: too late for a
 *   pool to gather anything sooner than the offer's own gathering would
 *   (the relay phase starts ~60 ms into either). Where this side can only
 *   relay over TURN/TCP, what decides how soon the call connects is the
 *   order in which the peer checks candidate pairs, not how early this
 *   side's candidates are out (the SDK page measured 1.26-1.63x bare
 *   WebRTC there with the pool, 1.10-1.33x without).
 * @param {Call} call
 * @returns {RTCConfiguration}
 */
export function rtcConfig(call) {
  const c = call.certificate;
  return {
    iceServers: call.iceServers,
    iceTransportPolicy: call.relay ? "relay" : "all",
    bundlePolicy: "max-bundle",
    // an expired one (a call running for weeks) is left to the browser
    ...(c && !(c.expires <= Date.now()) ? { certificates: [c] } : {}),
  };
}

/**
 * @param {Call} call
 * @param {string} id
 * @param {{answering?:boolean, announce?:boolean}} opts (optional) answering: created for
 *   the offer it sent or is about to send us; announce: emit peer-joined now (else at announce())
 * @returns {Peer}
 */
export function addPeer(call, id, { answering = false, announce: now = true } = {}) {
  const peer = /** @type {Peer} */ ({
    id, pc: null, neg: null, dc: null, name: "", mic: true, camera: true, screen: false, safetyCode: null, closed: false,
    stream: null, bye: false, limboTimer: null, offerTimer: null, lastState: "new", audioTx: null, videoTx: null,
    announced: false, awaitingRejoin: false, rejoinTimer: null, flow: null,
  });
  call.peersById.set(id, peer);
  connectPeer(call, peer, { answering });
  if (now) announce(call, peer);
  return peer;
}

/**
 * Emits peer-joined for a peer, once.
 * @param {Call} call
 * @param {Peer} peer
 */
export function announce(call, peer) {
  if (peer.announced || peer.closed) return;
  peer.announced = true;
  call._emit("peer-joined", { peerId: peer.id });
}

/**
 * Connections made before the welcome says who is in the room, so that the
 * first offers do not wait for an RTCPeerConnection to be built. Those the
 * welcome does not use are closed right after it. (No ICE candidate pool:
 * see rtcConfig.)
 * @param {Call} call
 * @param {number} n
 */
export function makeSpares(call, n) {
  call._spares = [];
  if (!globalThis.RTCPeerConnection) return;
  for (let i = 0; i < n; i++) {
    try { call._spares.push(new RTCPeerConnection(rtcConfig(call))); } catch { break; }
  }
}

/** @param {Call} call */
export function dropSpares(call) {
  for (const pc of call._spares) { try { pc.close(); } catch {} }
  call._spares = [];
}

/**
 * Whether an offer to this peer can get there now.
 * @param {Call} call
 * @param {Peer} peer
 */
export function canSignal(call, peer) {
  return call.signaling.open && !peer.awaitingRejoin && !peer.limboTimer && !peer.closed;
}

/**
 * Gives a peer a new RTCPeerConnection (with its negotiator and chat channel).
 * @param {Call} call
 * @param {Peer} peer
 * @param {{answering?:boolean}} opts (optional) as for addPeer
 */
export function connectPeer(call, peer, { answering = false } = {}) {
  const pc = call._spares.shift() || new RTCPeerConnection(rtcConfig(call));
  const neg = new Negotiator({
    pc,
    polite: P.isPolite(call.peerId, peer.id),
    firstAnswerDelayMs: FIRST_ANSWER_DELAY_MS,
    send: (data) => {
      try { call.signaling.send(P.encodeSignal(peer.id, data)); } catch (err) { call._emit("error", { code: "signal-too-large", message: err.message, peerId: peer.id }); }
    },
    onError: (err) => call._emit("error", { code: "negotiation", message: String(err && err.message), peerId: peer.id, fatal: false }),
    beforeAnswer: () => adoptTransceivers(call, peer),
    prepareRestart: (since) => refreshIceServers(call, pc, since),
    canSignal: () => peer.pc === pc && canSignal(call, peer),
    // "connected" once the connection itself is (it may follow ICE's change)
    onRecovery: (state, attempt) => {
      if (state === "reconnecting") call.signaling.probe();
      if (peer.pc === pc && (state === "reconnecting" || pc.connectionState === "connected")) emitPeerState(call, peer, attempt);
    },
  });
  Object.assign(peer, { pc, neg, audioTx: null, videoTx: null, lastState: "new", flow: null });
  watchFlows(call, pc);

  // Always one audio and one video transceiver, so the camera, a new device
  // or a screen can be swapped in with replaceTrack and no renegotiation.
  // The side that answers takes them from the offer instead (beforeAnswer):
  // Chromium never pairs an offer's m-lines with addTransceiver's
  // transceivers, so adding its own would cost a second offer/answer round
  // before its media could flow.
  if (!answering) addOwnTransceivers(call, peer);

  peer.dc = openChatChannel(call, peer, pc);

  // Handlers use this connection's own negotiator: a replaced connection's
  // late events must not reach its successor.
  pc.onnegotiationneeded = () => neg.onNegotiationNeeded();
  pc.onicecandidate = (ev) => neg.onIceCandidate(ev.candidate);
  pc.oniceconnectionstatechange = () => neg.onIceConnectionStateChange();
  pc.onsignalingstatechange = () => neg.onSignalingStateChange();
  pc.onconnectionstatechange = () => {
    if (peer.pc !== pc) return;
    const state = pc.connectionState;
    if (state === "connected" && !peer.safetyCode) updateSafetyCode(call, peer);
    if (state === "connected" && call.timings.firstConnected === undefined) call.timings.firstConnected = performance.now() - call.t0;
    if (state === "failed" && peer.limboTimer) return removePeer(call, peer.id);
    emitPeerState(call, peer);
  };
  pc.ontrack = (ev) => {
    if (peer.pc !== pc) return;
    if (!peer.stream) peer.stream = ev.streams[0] || new MediaStream();
    if (!peer.stream.getTracks().includes(ev.track)) peer.stream.addTrack(ev.track);
    call._emit("track", { peerId: peer.id, track: ev.track, stream: peer.stream });
  };
  pc.ondatachannel = (ev) => {
    if (ev.channel.label.startsWith("file:")) receiveFile(call, peer, ev.channel);
  };
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
 * @param {Call} call
 * @param {Peer} peer
 * @param {{description?:{type:string}}} data the incoming signal
 * @returns {boolean} true when the connection was replaced
 */
export function restartOnFirstGlare(call, peer, data) {
  const pc = peer.pc;
  if (!data.description || data.description.type !== "offer" || !peer.audioTx) return false;
  if (pc.remoteDescription || pc.currentLocalDescription) return false;
  const offering = pc.signalingState === "have-local-offer" || peer.neg.makingOffer;
  if (offering && !peer.neg.polite) return false; // the impolite side ignores the offer
  peer.neg.close();
  try { pc.close(); } catch {}
  connectPeer(call, peer, { answering: true });
  if (offering) peer.neg.stats.rollbacks++; // counted as the collision it resolves
  return true;
}

/**
 * @param {Call} call
 * @param {Peer} peer
 */
export function updateSafetyCode(call, peer) {
  const l = peer.pc.localDescription, r = peer.pc.remoteDescription;
  const code = l && r ? safetyCodeFromSdp(l.sdp, r.sdp) : null;
  if (code && code !== peer.safetyCode) {
    peer.safetyCode = code;
    call._emit("safety-code", { peerId: peer.id, code });
  }
}

/**
 * @param {Call} call
 * @param {string} id
 */
export function removePeer(call, id) {
  const p = call.peersById.get(id);
  if (!p) return;
  call.peersById.delete(id);
  p.closed = true;
  clearTimeout(p.limboTimer);
  clearTimeout(p.offerTimer);
  clearTimeout(p.rejoinTimer);
  p.neg.close();
  for (const t of call.transfers.values()) if (t.peerId === id) t.cancel();
  try { p.pc.close(); } catch {}
  if (p.announced) call._emit("peer-left", { peerId: id });
}
