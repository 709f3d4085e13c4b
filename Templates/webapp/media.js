// This side's media: the camera and microphone, a screen share, device
// switches, and the transceivers that carry them to each peer (always one
// audio and one video, so a track can be swapped in without renegotiation).

import { OtterError } from "./errors.js";
import { broadcastState } from "./channels.js";

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./peers.js").Peer} Peer */

/**
 * getUserMedia with errors as OtterError ("media-denied", "media-not-found").
 * @param {MediaStreamConstraints} constraints
 * @returns {Promise<MediaStream>}
 */
export async function getMedia(constraints) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    if (err && (err.name === "NotAllowedError" || err.name === "SecurityError")) {
      throw new OtterError("media-denied", "camera or microphone access was denied", { cause: err });
    }
    if (err && (err.name === "NotFoundError" || err.name === "OverconstrainedError" || err.name === "NotReadableError")) {
      throw new OtterError("media-not-found", "no usable camera or microphone was found", { cause: err });
    }
    throw new OtterError("media-denied", String((err && err.message) || err), { cause: err });
  }
}

/**
 * What this side sends of one kind right now (a screen share wins over the camera).
 * @param {Call} call
 * @param {"audio"|"video"} kind
 * @returns {MediaStreamTrack|null}
 */
export function localTrack(call, kind) {
  if (kind === "audio") return call.localStream.getAudioTracks()[0] || null;
  return call.screenTrack || call.localStream.getVideoTracks()[0] || null;
}

/**
 * This side's audio and video transceivers; on a connection without any,
 * adding them makes it offer (negotiationneeded).
 * @param {Call} call
 * @param {Peer} peer
 */
export function addOwnTransceivers(call, peer) {
  const pc = peer.pc;
  peer.audioTx = pc.addTransceiver(localTrack(call, "audio") || "audio", { direction: "sendrecv", streams: [call.localStream] });
  peer.videoTx = pc.addTransceiver(localTrack(call, "video") || "video", { direction: "sendrecv", streams: [call.localStream] });
}

/**
 * On the answering side: sends on the transceivers the remote offer created,
 * so the first answer already carries this side's audio and video.
 * @param {Call} call
 * @param {Peer} peer
 */
export function adoptTransceivers(call, peer) {
  for (const kind of /** @type {const} */ (["audio", "video"])) {
    const key = kind === "audio" ? "audioTx" : "videoTx";
    if (peer[key]) continue;
    const t = peer.pc.getTransceivers().find((x) =>
      x.mid !== null && x.currentDirection !== "stopped" && x.receiver.track.kind === kind &&
      x !== peer.audioTx && x !== peer.videoTx);
    const track = localTrack(call, kind);
    if (!t) {
      // An offer without this kind: add one (a renegotiation follows).
      peer[key] = peer.pc.addTransceiver(track || kind, { direction: "sendrecv", streams: [call.localStream] });
      continue;
    }
    t.direction = "sendrecv";
    if (t.sender.setStreams) t.sender.setStreams(call.localStream);
    // replaceTrack is queued on the connection's operations chain, ahead of the answer.
    if (track) t.sender.replaceTrack(track).catch(() => {});
    peer[key] = t;
  }
}

/**
 * @param {Call} call
 * @param {boolean} on
 */
export function setMicrophone(call, on) {
  call.micOn = !!on;
  for (const t of call.localStream.getAudioTracks()) t.enabled = call.micOn;
  broadcastState(call);
}

/**
 * @param {Call} call
 * @param {boolean} on
 */
export function setCamera(call, on) {
  call.cameraOn = !!on;
  for (const t of call.localStream.getVideoTracks()) t.enabled = call.cameraOn;
  broadcastState(call);
}

/**
 * @param {Call} call
 * @param {MediaStreamTrack|null} track
 */
async function replaceVideo(call, track) {
  // A peer still without transceivers picks up the current track when it answers.
  await Promise.all([...call.peersById.values()].map((p) => p.videoTx && p.videoTx.sender.replaceTrack(track).catch(() => {})));
}

/**
 * @param {Call} call
 * @returns {Promise<MediaStreamTrack>}
 */
export async function shareScreen(call) {
  if (call.screenTrack) return call.screenTrack;
  let s;
  try {
    s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (err) {
    throw new OtterError("screen-denied", "screen sharing was not allowed", { cause: err });
  }
  const track = s.getVideoTracks()[0];
  call.screenTrack = track;
  track.addEventListener("ended", () => { if (call.screenTrack === track) stopScreen(call); });
  await replaceVideo(call, track);
  broadcastState(call);
  return track;
}

/**
 * @param {Call} call
 * @returns {Promise<void>}
 */
export async function stopScreen(call) {
  const t = call.screenTrack;
  if (!t) return;
  call.screenTrack = null;
  t.stop();
  await replaceVideo(call, call.localStream.getVideoTracks()[0] || null);
  broadcastState(call);
}

/**
 * @param {Call} call
 * @param {"audioinput"|"videoinput"|"audio"|"video"} kind
 * @param {string} deviceId
 * @returns {Promise<MediaStreamTrack>}
 */
export async function switchDevice(call, kind, deviceId) {
  const k = String(kind).startsWith("audio") ? "audio" : "video";
  const s = await getMedia({ [k]: { deviceId: { exact: deviceId } } });
  const track = (k === "audio" ? s.getAudioTracks() : s.getVideoTracks())[0];
  for (const extra of s.getTracks()) if (extra !== track) extra.stop();
  const old = k === "audio" ? call.localStream.getAudioTracks()[0] : call.localStream.getVideoTracks()[0];
  track.enabled = k === "audio" ? call.micOn : call.cameraOn;
  // The stream first, so a peer that connects meanwhile gets the new track;
  // then every sender; the old device is released only once nothing sends it.
  if (old) call.localStream.removeTrack(old);
  call.localStream.addTrack(track);
  if (k === "audio" || !call.screenTrack) {
    await Promise.all([...call.peersById.values()].map((p) => {
      const tx = k === "audio" ? p.audioTx : p.videoTx;
      return tx && tx.sender.replaceTrack(track).catch(() => {});
    }));
  }
  if (old && old !== track) old.stop();
  return track;
}
