// File transfers between peers: each file on its own DataChannel
// (files.js does the chunking, flow control and SHA-256), with the call's
// file-offer, file-progress and file-received events.

import { OtterError } from "./errors.js";
import { sendFileOnChannel, FileReceiver, newTransferId } from "./files.js";

const PROGRESS_INTERVAL_MS = 100;

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./peers.js").Peer} Peer */
/** @typedef {import("./otter.js").FileProgress} FileProgress */

/**
 * @param {Call} call
 * @param {File|Blob} file
 * @param {{to?:string}} [opts]
 * @returns {import("./otter.js").FileTransfer}
 */
export function sendFile(call, file, opts = {}) {
  const id = newTransferId();
  const targets = [...call.peersById.values()].filter((p) => !p.closed && (!opts.to || p.id === opts.to));
  if (!targets.length) throw new OtterError("no-peers", "there is nobody to send the file to");
  const name = ("name" in file && file.name) || "file";
  const handles = targets.map((peer) => {
    const channel = peer.pc.createDataChannel(`file:${id}`, { ordered: true });
    let last = 0;
    const h = sendFileOnChannel(file, channel, {
      id,
      onProgress: (bytes, size) => {
        const now = performance.now();
        if (bytes < size && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        call._emit("file-progress", { peerId: peer.id, id, name, direction: "send", bytes, size, state: "sending" });
      },
    });
    const t = { peerId: peer.id, cancel: h.cancel };
    call.transfers.set(`${id}:${peer.id}`, t);
    h.done.then(
      (r) => call._emit("file-progress", { peerId: peer.id, id, name, direction: "send", bytes: file.size, size: file.size, state: "done", sha256: r.sha256 }),
      (err) => call._emit("file-progress", { peerId: peer.id, id, name, direction: "send", bytes: 0, size: file.size, state: err.code === "cancelled" ? "cancelled" : "failed", error: err.message }),
    ).finally(() => call.transfers.delete(`${id}:${peer.id}`));
    return h;
  });
  const done = Promise.all(handles.map((h) => h.done));
  done.catch(() => {});
  return { id, name, size: file.size, done, cancel: () => handles.forEach((h) => h.cancel()) };
}

/**
 * A file channel the peer opened: offer, progress, the checked file.
 * @param {Call} call
 * @param {Peer} peer
 * @param {RTCDataChannel} channel
 */
export function receiveFile(call, peer, channel) {
  channel.binaryType = "arraybuffer";
  const rx = new FileReceiver({ reply: (m) => { try { channel.send(m); } catch {} } });
  /** @type {{id:string, name:string, size:number, type:string}|null} */
  let meta = null;
  let last = 0;
  const key = `${channel.label}:${peer.id}:rx`;
  const cancel = () => { rx.cancel(); try { channel.close(); } catch {} };
  call.transfers.set(key, { peerId: peer.id, cancel });
  /**
   * @param {FileProgress["state"]} state
   * @param {number} bytes
   * @param {{sha256?:string, error?:string}} [extra]
   */
  const progress = (state, bytes, extra = {}) =>
    call._emit("file-progress", { peerId: peer.id, id: meta ? meta.id : "", name: meta ? meta.name : "", direction: "receive", bytes, size: meta ? meta.size : 0, state, ...extra });
  channel.onmessage = (ev) => {
    const out = rx.handle(ev.data);
    switch (out.event) {
      case "offer":
        meta = out.detail;
        call._emit("file-offer", { peerId: peer.id, ...meta, cancel });
        progress("receiving", 0);
        break;
      case "progress": {
        const now = performance.now();
        if (now - last >= PROGRESS_INTERVAL_MS) { last = now; progress("receiving", out.detail.received); }
        break;
      }
      case "done":
        progress("done", out.detail.size, { sha256: out.detail.sha256 });
        call._emit("file-received", { peerId: peer.id, ...out.detail });
        call.transfers.delete(key);
        break;
      case "failed":
        progress("failed", rx.received, { error: out.detail.reason });
        call._emit("error", { code: out.detail.code, message: `file transfer failed: ${out.detail.reason}`, peerId: peer.id, fatal: false });
        call.transfers.delete(key);
        try { channel.close(); } catch {}
        break;
      case "cancelled":
        progress("cancelled", rx.received);
        call.transfers.delete(key);
        break;
      default:
    }
  };
  channel.onclose = () => {
    if (rx.state === "receiving" || rx.state === "waiting") {
      rx.state = "cancelled";
      if (meta) progress("cancelled", rx.received);
    }
    call.transfers.delete(key);
  };
}
