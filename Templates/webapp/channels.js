// The chat channel each connection carries (negotiated, id 0): chat
// messages, a peer's name and mic/camera/screen state, "bye", and the new
// id of a peer that rejoined signaling. Never through a server.

import * as P from "./protocol.js";
import { OtterError } from "./errors.js";
import { newTransferId } from "./files.js";
import { removePeer, updateSafetyCode } from "./peers.js";
import { rekey } from "./membership.js";

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./peers.js").Peer} Peer */

/**
 * Opens a connection's chat channel; it says hello with this side's state.
 * @param {Call} call
 * @param {Peer} peer
 * @param {RTCPeerConnection} pc
 * @returns {RTCDataChannel}
 */
export function openChatChannel(call, peer, pc) {
  const dc = pc.createDataChannel("otter", { negotiated: true, id: 0, ordered: true });
  dc.onopen = () => {
    dc.send(P.encodePeerMessage({ t: "hello", name: call.name, mic: call.micOn, camera: call.cameraOn, screen: !!call.screenTrack }));
  };
  dc.onmessage = (ev) => onPeerMessage(call, peer, ev.data);
  return dc;
}

/**
 * @param {Call} call
 * @param {Peer} peer
 * @param {string} data a message on the channel
 */
function onPeerMessage(call, peer, data) {
  const m = P.parsePeerMessage(data);
  if (!m) return;
  switch (m.t) {
    case "chat":
      call._emit("message", { peerId: peer.id, name: peer.name, text: m.text, id: m.id, at: m.at });
      return;
    case "hello":
    case "state":
      if (m.name !== undefined) peer.name = m.name;
      for (const k of /** @type {const} */ (["mic", "camera", "screen"])) if (m[k] !== undefined) peer[k] = m[k];
      updateSafetyCode(call, peer);
      call._emit("peer-updated", { peerId: peer.id, name: peer.name, mic: peer.mic, camera: peer.camera, screen: peer.screen });
      return;
    case "bye":
      peer.bye = true;
      removePeer(call, peer.id);
      return;
    case "rekey":
      rekey(call, peer, m.peerId);
      return;
    default:
  }
}

/**
 * Sends a message to every peer whose chat channel is open.
 * @param {Call} call
 * @param {object} msg
 * @returns {number} how many it went to
 */
export function broadcast(call, msg) {
  const text = P.encodePeerMessage(msg);
  let n = 0;
  for (const p of call.peersById.values()) {
    if (p.dc.readyState === "open") { p.dc.send(text); n++; }
  }
  return n;
}

/** @param {Call} call */
export function broadcastState(call) {
  broadcast(call, { t: "state", mic: call.micOn, camera: call.cameraOn, screen: !!call.screenTrack, name: call.name });
}

/**
 * @param {Call} call
 * @param {string} text
 * @returns {{id:string,text:string,at:number,delivered:number}}
 */
export function sendChat(call, text) {
  const t = String(text ?? "").trim();
  if (!t) throw new OtterError("bad-message", "empty message");
  if (t.length > 10000) throw new OtterError("bad-message", "messages are limited to 10,000 characters");
  const msg = { t: "chat", text: t, id: newTransferId(), at: Date.now() };
  const delivered = broadcast(call, msg);
  return { id: msg.id, text: t, at: msg.at, delivered };
}
