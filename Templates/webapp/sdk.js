// The SDK's exports (otter.js re-exports them; otter.d.ts declares them):
// join() and the Otter namespace.

import * as P from "./protocol.js";
import { OtterError } from "./errors.js";
import { resolveConfig, target, checkRoom } from "./rest.js";
import { prepare, usablePreparation, newCertificate } from "./prepare.js";
import { getMedia } from "./media.js";
import { makeSpares } from "./peers.js";
import { Call } from "./call.js";

export { OtterError, resolveConfig, prepare, getMedia, Call };

export const VERSION = "0.1.0";

const OFFERS_WAIT_MS = 300; // join() waits at most this long for its first offers to be sent

/**
 * Joins a room. Resolves once the server welcomed this side and the offers to
 * the peers already in the room are sent (or at most OFFERS_WAIT_MS later).
 * @param {import("./otter.js").JoinOptions} options
 *   roomUrl: a room link `<app>/?room=<id>#token=<jwt>`; or roomId with token;
 *   config: `{apiUrl, signalUrl, iceServersPath, stunUrls}`, default window.OTTER_CONFIG;
 *   media: a stream to send, constraints for getUserMedia (default `{audio:true, video:true}`),
 *   or false to only receive; name: display name shown to the others;
 *   iceTransportPolicy: "relay" forces TURN (also `?relay=1` on the link);
 *   stopTracksOnLeave: stop the local tracks on leave (default: only tracks the SDK itself acquired);
 *   prepared: what prepare() did for this link (its checks are then not repeated if at most
 *   10 minutes, and half the ICE credentials' lifetime, old);
 *   offerWaitMs: how long this side, already in the room, waits for a newcomer's offer before
 *   offering itself (default 1500; 0 makes both sides offer at once, which perfect negotiation
 *   resolves — the browser tests use it to force that collision)
 * @returns {Promise<Call>}
 * @throws {OtterError}
 */
export async function join(options = {}) {
  const { config, roomId, token, relay } = target(options);
  const t0 = performance.now();
  const ready = usablePreparation(options.prepared, roomId, token, relay);
  // The signaling socket opens while the checks run (the join is sent once
  // they passed); a refused one is explained by the checks' own errors.
  /** @type {WebSocket|null} */
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

  /** @type {MediaStream|null} */
  let stream = null;
  let ownsStream = false;
  if (options.media instanceof (globalThis.MediaStream || class {})) {
    stream = /** @type {MediaStream} */ (options.media);
  } else if (options.media !== false) {
    try {
      stream = await getMedia(/** @type {MediaStreamConstraints|undefined} */ (options.media) || { audio: true, video: true });
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
  makeSpares(call, Math.min(3, ((room && room.maxPeers) || 4) - 1));
  try {
    await call.signaling.connect(true, early);
  } catch (err) {
    call._teardown();
    throw err;
  }
  // The page's own work once join() resolves (showing the call) would hold
  // up the offers' completion on the main thread (traced: setLocalDescription
  // 55-66 ms instead of 8-12 ms on a busy CPU); the page renders while the
  // answers are on their way instead.
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let waited;
  await Promise.race([Promise.all(call._firstOffers), new Promise((r) => { waited = setTimeout(r, OFFERS_WAIT_MS); })]);
  clearTimeout(waited);
  // Delivered after the caller's code that follows `await join()` has run.
  setTimeout(() => call._releaseEvents(), 0);
  return call;
}

/** The SDK namespace. */
export const Otter = Object.freeze({
  VERSION, join, prepare, getMedia, resolveConfig, OtterError, Call,
  parseRoomUrl: P.parseRoomUrl,
});
export default Otter;
