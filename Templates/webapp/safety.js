// Safety code: a short code both people can read out loud. It is derived
// from the DTLS certificate fingerprints of both ends of one connection (as
// they appear in the SDP). A man in the middle terminates DTLS separately on
// each side, so the two people would see different codes.

import { Sha256 } from "./sha256.js";

/**
 * Extracts the DTLS fingerprint from an SDP (the first `a=fingerprint:` line,
 * session- or media-level), normalised as `"sha-256 AB:CD:…"`.
 * @param {string} sdp
 * @returns {string|null}
 */
export function fingerprintFromSdp(sdp) {
  if (typeof sdp !== "string") return null;
  const m = /^a=fingerprint:([A-Za-z0-9-]+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  if (!m) return null;
  return `${m[1].toLowerCase()} ${m[2].toUpperCase()}`;
}

/**
 * The safety code for one connection: the same on both sides whatever the
 * argument order. Four groups of four digits, e.g. `"0412 7733 1290 5561"`.
 * @param {string} fingerprintA
 * @param {string} fingerprintB
 * @returns {string}
 */
export function safetyCode(fingerprintA, fingerprintB) {
  if (!fingerprintA || !fingerprintB) throw new Error("safety code needs both fingerprints");
  const [x, y] = [fingerprintA, fingerprintB].sort();
  const d = new Sha256().update(`otter-safety-v1\n${x}\n${y}`).digest();
  const dv = new DataView(d.buffer);
  const groups = [];
  for (let i = 0; i < 4; i++) groups.push(String(dv.getUint32(i * 4) % 10000).padStart(4, "0"));
  return groups.join(" ");
}

/**
 * Safety code from the local and remote SDP of one RTCPeerConnection.
 * @param {string} localSdp
 * @param {string} remoteSdp
 * @returns {string|null} null until both descriptions carry fingerprints
 */
export function safetyCodeFromSdp(localSdp, remoteSdp) {
  const a = fingerprintFromSdp(localSdp);
  const b = fingerprintFromSdp(remoteSdp);
  return a && b ? safetyCode(a, b) : null;
}
