// Who is in the room, from the signaling server's frames: the welcome's
// peers, peers joining and leaving, and the peers that come back under a
// new id after a signaling reconnect or a server restart (their connection
// goes on under that id).

import * as P from "./protocol.js";
import { addPeer, announce, canSignal, removePeer, restartOnFirstGlare } from "./peers.js";
import { addOwnTransceivers } from "./media.js";

const LIMBO_MS = 6000; // how long a peer the server says left may stay while its media still flows
const REKEY_WAIT_MS = 1500;
const REJOIN_WAIT_MS = 30000; // how long a peer the restarted server no longer knows may take to come back

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./peers.js").Peer} Peer */
/** @typedef {import("./signaling.js").ServerFrame} ServerFrame */

/**
 * @param {Call} call
 * @param {Extract<ServerFrame,{type:"welcome"}>} m
 * @param {boolean} first
 */
export function onWelcome(call, m, first) {
  const oldId = call.peerId;
  call.peerId = m.peerId;
  if (Array.isArray(m.iceServers) && m.iceServers.length && !call.iceServers.length) call.iceServers = m.iceServers;
  const listed = new Set(m.peers);
  if (oldId && oldId !== m.peerId) call.pastIds.push(oldId);
  if (!first) {
    // the server is back: restarts from now on ask it for fresh ICE servers, at once
    call._iceFreshSince = 0;
    call._iceFailedAt = 0;
    call._iceFetch = null; // one still out went by the old path, perhaps dead (the network changed)
  }
  if (!first && oldId && oldId !== m.peerId) {
    // Rejoined with a new id. Every connection is kept: those that work
    // tell their peer the new id over their data channel; for the others
    // (their media path broke too, e.g. the relay restarted with the
    // server) it goes through signaling, as a rejoin notice naming the id
    // the peer knew, so the connection can restart ICE instead of starting
    // over. A peer the server does not list (the server restarted and
    // forgot everyone) is waited for: it will come back with a new id.
    for (const p of [...call.peersById.values()]) {
      if (p.pc.signalingState === "closed") { removePeer(call, p.id); continue; }
      // (a connection that looks connected may be broken without ICE
      // having noticed yet: the rekey may never arrive, the notice will)
      if (p.pc.connectionState === "connected" && p.dc.readyState === "open") {
        p.dc.send(P.encodePeerMessage({ t: "rekey", peerId: call.peerId }));
      }
      if (listed.has(p.id)) sendRejoin(call, p.id);
      if (listed.has(p.id)) p.neg.polite = P.isPolite(call.peerId, p.id);
      else awaitRejoin(call, p);
    }
  }
  const waiting = [...call.peersById.values()].filter((p) => p.awaitingRejoin);
  call._firstOffers = [];
  for (const id of m.peers) {
    // our own old seat, still held by a socket the server has not found dead yet
    if (call.peersById.has(id) || call.pastIds.includes(id)) continue;
    if (waiting.length) {
      // Perhaps one of those this side waits for, back with a new id: ask
      // it (it answers with the id this side knew) before starting over.
      sendRejoin(call, id);
      const timer = setTimeout(() => {
        call.pendingJoins.delete(id);
        if (!call.peersById.has(id) && !call.left) addPeer(call, id).neg.onNegotiationNeeded();
      }, REKEY_WAIT_MS);
      call.pendingJoins.set(id, timer);
      continue;
    }
    // The newcomer offers to everyone in its welcome, at once: waiting for
    // negotiationneeded would queue the offer behind whatever the page does
    // when join() resolves (tens of ms on a busy CPU). The event that
    // follows finds the offer made and does nothing.
    call._firstOffers.push(addPeer(call, id).neg.onNegotiationNeeded());
  }
}

/**
 * A pending join of `id` (this side waits whether it is a known peer back) ends.
 * @param {Call} call
 * @param {string} id
 */
function cancelPendingJoin(call, id) {
  const pending = call.pendingJoins.get(id);
  if (pending) { clearTimeout(pending); call.pendingJoins.delete(id); }
}

/**
 * Every frame after the welcome.
 * @param {Call} call
 * @param {ServerFrame} m
 */
export function onServerFrame(call, m) {
  switch (m.type) {
    case "peer-joined": {
      if (call.peersById.has(m.peerId) || call.pastIds.includes(m.peerId)) return;
      // The newcomer offers to everyone it finds in its welcome; we answer
      // when that offer arrives, which avoids a needless glare round. If no
      // offer comes (or the newcomer is a peer we still hear, coming back
      // with a new id and sending a rekey instead), act after a moment.
      // Perfect negotiation keeps both offering at once safe anyway.
      const limbo = [...call.peersById.values()].some((p) => p.limboTimer || p.awaitingRejoin);
      if (!limbo) {
        // The connection that will answer is made now, before the offer
        // arrives (with no ICE candidate pool: Chromium did not use one
        // here, see peers.js rtcConfig). It is announced (peer-joined) once
        // the peer shows up on it: a peer coming back with a new id sends a
        // rekey instead, and this connection then goes without a trace.
        // It must not offer meanwhile (its chat channel alone makes the
        // browser ask for a negotiation).
        const peer = addPeer(call, m.peerId, { answering: true, announce: false });
        peer.neg.holdOffers = true;
        peer.offerTimer = setTimeout(() => {
          peer.offerTimer = null;
          if (peer.closed || peer.pc.remoteDescription || peer.pc.signalingState !== "stable") return;
          announce(call, peer);
          addOwnTransceivers(call, peer);
          peer.neg.holdOffers = false;
          peer.neg.onNegotiationNeeded();
        }, call.offerWaitMs);
        return;
      }
      const timer = setTimeout(() => {
        call.pendingJoins.delete(m.peerId);
        if (!call.peersById.has(m.peerId) && !call.left) addPeer(call, m.peerId);
      }, REKEY_WAIT_MS);
      call.pendingJoins.set(m.peerId, timer);
      return;
    }
    case "peer-left": {
      cancelPendingJoin(call, m.peerId);
      const p = call.peersById.get(m.peerId);
      if (!p) return;
      // Still connected, or recovering (its relay went away with its
      // signaling): it may come back with a new id and a rekey.
      if (!p.bye && (p.pc.connectionState === "connected" || (p.neg.recovering && p.pc.connectionState !== "closed"))) {
        p.limboTimer = setTimeout(() => removePeer(call, p.id), LIMBO_MS);
      } else {
        removePeer(call, m.peerId);
      }
      return;
    }
    case "signal": {
      const data = /** @type {{description?:{type:"offer"|"answer",sdp:string}, candidate?:object|null, rejoin?:{peerId:string}}|null} */ (P.parseSignalData(m.data));
      if (!data) return;
      if (data.rejoin) return onRejoin(call, m.from, data.rejoin.peerId);
      let p = call.peersById.get(m.from);
      if (!p) {
        cancelPendingJoin(call, m.from);
        if (!data.description || data.description.type !== "offer") return;
        p = addPeer(call, m.from, { answering: true });
      } else {
        if (data.description) {
          clearTimeout(p.offerTimer);
          p.offerTimer = null;
          p.neg.holdOffers = false;
        }
        announce(call, p);
        restartOnFirstGlare(call, p, data);
      }
      p.neg.onSignal(data);
      return;
    }
    case "error":
      if (m.code === "token-expired") {
        call.signaling.setState("expired");
      }
      call._emit("error", { code: m.code, message: m.message, fatal: false });
      return;
    default:
  }
}

/**
 * A peer is known under a new id (it rejoined signaling): the same
 * connection goes on under that id, and a recovery that waited for
 * signaling to reach it restarts now.
 * @param {Call} call
 * @param {Peer} peer
 * @param {string} newId
 */
export function rekey(call, peer, newId) {
  const oldId = peer.id;
  const dup = call.peersById.get(newId);
  if (dup && dup !== peer) removePeer(call, newId);
  cancelPendingJoin(call, newId);
  clearTimeout(peer.limboTimer);
  peer.limboTimer = null;
  clearTimeout(peer.rejoinTimer);
  peer.rejoinTimer = null;
  peer.awaitingRejoin = false;
  if (newId !== oldId) {
    call.peersById.delete(oldId);
    peer.id = newId;
    call.peersById.set(newId, peer);
  }
  peer.neg.polite = P.isPolite(call.peerId, newId);
  if (newId !== oldId) call._emit("peer-rekeyed", { oldPeerId: oldId, peerId: newId });
  if (canSignal(call, peer)) peer.neg.onSignalingReady();
}

/**
 * A rejoin notice through signaling: `from` is the peer this side knew as
 * `oldId`. Only names are changed: the connection's DTLS session still
 * authenticates the media, so a false notice can break a connection but
 * not take it over.
 * @param {Call} call
 * @param {string} from
 * @param {string} oldId
 */
function onRejoin(call, from, oldId) {
  const peer = call.peersById.get(oldId);
  if (!peer || peer.closed) return; // not one of ours (any more), or known by this id already
  // It may know this side by an older id too (both came back to a
  // restarted server): tell it. Its answer to that finds no peer of that
  // id here any more and ends there.
  if (oldId !== from) sendRejoin(call, from);
  rekey(call, peer, from);
}

/**
 * Tells a peer the ids this side had before (the last few): the one it
 * knew this side by renames its connection.
 * @param {Call} call
 * @param {string} to
 */
function sendRejoin(call, to) {
  for (const old of call.pastIds.slice(-3)) {
    try { call.signaling.send(P.encodeSignal(to, { rejoin: { peerId: old } })); } catch {}
  }
}

/**
 * The server no longer lists this peer (it restarted): keep its connection
 * while it may come back with a new id; then drop it unless it still works.
 * @param {Call} call
 * @param {Peer} peer
 */
function awaitRejoin(call, peer) {
  if (peer.awaitingRejoin) return;
  peer.awaitingRejoin = true;
  clearTimeout(peer.rejoinTimer);
  peer.rejoinTimer = setTimeout(() => {
    peer.rejoinTimer = null;
    if (!peer.awaitingRejoin || peer.closed) return;
    if (peer.pc.connectionState !== "connected") removePeer(call, peer.id);
  }, REJOIN_WAIT_MS);
}
