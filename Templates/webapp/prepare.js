// What can happen before the user's click on "join": the link's checks, the
// DTLS certificate and a WebRTC warm-up, handed to join({ prepared }).

import { target, checkRoom } from "./rest.js";

const PREPARED_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * @typedef {import("./otter.js").Preparation & {token:string, certificate:RTCCertificate|null, warmed:Promise<void>}} FullPreparation
 */

/**
 * Does ahead of join() what does not need the user's click: the server's
 * checks of the link (room, ICE servers), the DTLS certificate, and one
 * offer/answer between two throwaway local connections, so the browser's
 * WebRTC machinery is loaded before the call's first offer or answer needs
 * it. A lobby calls this while the camera preview shows and passes the result
 * to `join({ prepared })`, which then starts at the signaling socket. Nobody
 * in the room learns of it: the room is joined only by join().
 * @param {import("./otter.js").PrepareOptions} options the same link options as join(): roomUrl,
 *   or roomId and token; config; iceTransportPolicy
 * @returns {Promise<FullPreparation>} rejects with the same OtterError codes as join()'s checks
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
 * A preparation join() may use: same link, not too old.
 * @param {import("./otter.js").Preparation|undefined} prepared
 * @param {string} roomId
 * @param {string} token
 * @param {boolean} relay
 * @returns {FullPreparation|null}
 */
export function usablePreparation(prepared, roomId, token, relay) {
  const p = /** @type {FullPreparation|undefined} */ (prepared);
  if (!p || p.roomId !== roomId || p.token !== token || p.relay !== relay) return null;
  return Date.now() - p.preparedAt < p.maxAgeMs ? p : null;
}

/**
 * One offer/answer between two local connections that never connect: the
 * first SDP a page applies loads codecs and media channels (traced: the
 * answerer's first setRemoteDescription took 52 ms median cold, 25 ms after
 * this). Failures do not matter.
 * @param {RTCCertificate|null} certificate
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
 * A fresh ECDSA certificate, or null where that cannot be made in time (the
 * browser then makes one per connection itself): a lobby or join must not
 * wait on it for good.
 * @param {number} [waitMs] how long to wait for it at most
 * @returns {Promise<RTCCertificate|null>}
 */
export function newCertificate(waitMs = 5000) {
  const PC = globalThis.RTCPeerConnection;
  if (!PC || typeof PC.generateCertificate !== "function") return Promise.resolve(null);
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), waitMs); });
  const made = PC.generateCertificate(/** @type {any} */ ({ name: "ECDSA", namedCurve: "P-256" })).catch(() => null);
  return Promise.race([made, late]).finally(() => clearTimeout(timer));
}
