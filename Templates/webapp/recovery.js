// Keeping a call's connections alive: what state each is in as the SDK
// tells it, a stalled media path noticed sooner than ICE does, and fresh
// ICE servers for the ICE restarts negotiation.js makes.

import * as P from "./protocol.js";
import { apiGet } from "./rest.js";

const ICE_FETCH_TIMEOUT_MS = 4000;
const ICE_SHARE_MS = 500; // a request begun this long before a recovery began serves it (see freshIceServers)…
const ICE_REUSE_MS = 5000; // …and is asked again for a recovery's later restarts once older than this
const ICE_FAILED_PAUSE_MS = 1000; // a failed request is made again this long after at the earliest
const FLOW_TICK_MS = 250; // the check runs this often while a connection looks suspicious…
const FLOW_CHECK_EVERY = 4; // …and every this many ticks (once a second) otherwise
const STALL_MS = 1500; // nothing received this long on a connection that carried media: recover
const FLOWING_BYTES_PER_MS = 2; // what "carried media" means (audio alone is ~5)

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./peers.js").Peer} Peer */

/**
 * What the SDK tells about a peer: the connection's own state, except that
 * a connection whose media path broke is "reconnecting" while the SDK
 * restarts ICE, and "failed" once it cannot any more (signaling gone for good).
 * @param {Call} call
 * @param {Peer} peer
 * @returns {import("./otter.js").PeerConnectionState}
 */
export function peerState(call, peer) {
  const raw = peer.pc.connectionState;
  if (raw === "closed") return raw;
  const stuck = ["expired", "offline", "closed"].includes(call.signalingState);
  // (a connection can look connected while nothing arrives: see checkFlows)
  if (peer.neg.recovering && peer.neg.everConnected) return stuck && raw === "failed" ? "failed" : "reconnecting";
  if (raw === "connected") return raw;
  if (raw === "disconnected") return "reconnecting";
  if (!peer.neg.everConnected) return raw; // new, connecting, failed: the first connection
  return "reconnecting"; // once connected, anything short of connected again is the recovery
}

/**
 * Emits a peer's connection-state when it changed.
 * @param {Call} call
 * @param {Peer} peer
 * @param {number} [attempt]
 */
export function emitPeerState(call, peer, attempt) {
  if (peer.closed) return;
  const state = peerState(call, peer);
  if (state === peer.lastState) return;
  peer.lastState = state;
  /** @type {import("./otter.js").CallEvents["connection-state"]} */
  const detail = { scope: "peer", peerId: peer.id, state };
  if (state === "reconnecting") detail.attempt = attempt ?? peer.neg.attempt;
  call._emit("connection-state", detail);
}

/**
 * Starts the once-a-second flow check, if the connections can tell their stats.
 * @param {Call} call
 * @param {RTCPeerConnection} pc
 */
export function watchFlows(call, pc) {
  if (call.flowTimer || typeof pc.getStats !== "function") return;
  let tick = 0;
  call.flowTimer = setInterval(() => {
    // getStats once a second; four times a second once a check found nothing
    // new on a connection that carried media (or one recovers), so a dead
    // path is called stalled within STALL_MS + FLOW_TICK_MS, not + a second
    if (++tick % FLOW_CHECK_EVERY === 0 || call._flowSuspect) checkFlows(call);
  }, FLOW_TICK_MS);
}

/**
 * Bytes received per connection, once a second (more often while one looks
 * suspicious: see watchFlows): ICE's consent checks take
 * 5 s or more to call a path dead whose relay went away; a connection that
 * carried media and now receives nothing for STALL_MS is recovered sooner.
 * @param {Call} call
 */
export async function checkFlows(call) {
  if (call._checkingFlows) return;
  call._checkingFlows = true;
  let suspect = false;
  try {
    for (const peer of [...call.peersById.values()]) {
      if (peer.neg.recovering) suspect = true;
      const pc = peer.pc;
      if (peer.closed || !peer.neg.everConnected || pc.connectionState === "closed") continue;
      /** @type {number|null} */
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
      } else if (f.rate >= FLOWING_BYTES_PER_MS) {
        if (now - f.at >= STALL_MS) peer.neg.onMediaStalled();
        else {
          suspect = true;
          // if the network changed, the signaling socket died with the path,
          // silently: the ping that finds out (SIGNALING_PROBE_MS) runs while
          // the stall is still being confirmed, not after it
          call.signaling.probe();
        }
      }
    }
  } finally {
    call._checkingFlows = false;
    call._flowSuspect = suspect;
  }
}

/**
 * Fresh ICE servers (new TURN credentials: the relay may be a new one) for
 * a connection about to restart ICE; one request serves every connection
 * recovering from the same loss.
 * @param {Call} call
 * @param {RTCPeerConnection} pc
 * @param {number} [since] when this connection's recovery began (Date.now()); servers asked for
 *   before it are not reused
 */
export async function refreshIceServers(call, pc, since = Date.now()) {
  const iceServers = await freshIceServers(call, since);
  if (pc.signalingState === "closed" || typeof pc.setConfiguration !== "function") return;
  try {
    pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
  } catch (err) {
    call._emit("error", { code: "negotiation", message: `ICE servers not applied: ${err && err.message}`, fatal: false });
  }
}

/**
 * ICE servers asked for after a loss. A recovery begins at least
 * ICE_SHARE_MS after the loss it recovers from (a stall is STALL_MS of
 * silence, ICE's disconnected takes longer, a peer's restart offer follows
 * its own recovery), so a request begun up to ICE_SHARE_MS before this
 * recovery began was still made after the loss and serves it too
 * (connections noticing one loss together share it). An older answer is
 * not reused, however recent: the relay may have restarted (forgetting its
 * allocations, perhaps its secret) after it was given; nor one older than
 * ICE_REUSE_MS, for the later restarts of a long recovery.
 * @param {Call} call
 * @param {number} since when the recovery began (Date.now())
 * @returns {Promise<RTCIceServer[]>}
 */
function freshIceServers(call, since) {
  const from = since - ICE_SHARE_MS;
  if (call._iceFetch && call._iceFetchBegan >= from) return call._iceFetch;
  const asked = call._iceFreshSince;
  if (asked && asked >= from && Date.now() - asked < ICE_REUSE_MS) return Promise.resolve(call.iceServers);
  const began = Date.now();
  /** @type {Promise<RTCIceServer[]>} */
  let fetching;
  fetching = (async () => {
    try {
      // a request that just failed (the server is restarting) is not
      // repeated at once for every connection and retry
      const wait = call._iceFailedAt + ICE_FAILED_PAUSE_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const ice = await apiGet(P.iceServersUrl(call.config, call.roomId), call.token, ICE_FETCH_TIMEOUT_MS);
      if (ice && Array.isArray(ice.iceServers) && ice.iceServers.length && began >= call._iceFreshSince) {
        call.iceServers = ice.iceServers;
        call._iceFreshSince = began;
      }
    } catch {
      // unreachable (the server is restarting) or the link expired: the
      // current servers, whose credentials last their TTL
      call._iceFailedAt = Date.now();
    } finally {
      if (call._iceFetch === fetching) call._iceFetch = null;
    }
    return call.iceServers;
  })();
  call._iceFetch = fetching;
  call._iceFetchBegan = began;
  return fetching;
}
