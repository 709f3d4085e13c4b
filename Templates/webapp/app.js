// The Otter web app: lobby → call → end screens, on top of the SDK (otter.js).

import Otter, { OtterError, getMedia } from "./otter.js";
import { parseRoomUrl, isTokenExpired } from "./protocol.js";
import { displayName, selfLabel } from "./names.js";
import { isLandingUrl, roomLinkFromPaste } from "./links.js";
import { checkSeat } from "./seat.js";

/**
 * The page's element with this id. Typed `any`: index.html fixes each id's
 * element kind (input, select, video, button), which the checker cannot see.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);
/** Diagnostics the browser tests read (window.otterCall, diagnostics.otterFirstFrame). */
const diagnostics = /** @type {any} */ (window);
const LOST_AFTER_MS = 15000;
const SEAT_CHECK_EVERY_MS = 3000;
const LOST_RECONNECTING_MS = 60000;

const state = {
  link: null,        // {roomId, token, relay}
  config: null,
  preview: null,     // MediaStream from the lobby
  micOn: true,
  cameraOn: true,
  call: null,
  tiles: new Map(),  // peerId → {el, video, label, stateEl}
  files: new Map(),  // `${id}:${peerId}:${direction}` → row
  audioCtx: null,
  meterRaf: 0,
  lostTimer: null,
  joinStartedAt: 0,
  joining: false,
  seatTimer: 0,
  waitingForSeat: false,
};

// ------------------------------------------------------------------ screens

function show(screen) {
  for (const id of ["screen-loading", "screen-landing", "screen-lobby", "screen-call", "screen-error"]) $(id).hidden = id !== screen;
  document.body.dataset.screen = screen.replace("screen-", "");
}

const ERRORS = {
  "invalid-link": ["This link doesn't work", "The room link is incomplete or was changed. Ask whoever invited you for the link again."],
  "room-not-found": ["This room doesn't exist", "The room may have been removed. Ask for a new link."],
  "token-expired": ["This link has expired", "Room links are valid for a limited time. Ask whoever invited you for a new one."],
  "room-full": ["This call is full", "The room has reached its maximum number of people. Try again when someone leaves."],
  "media-denied": ["Camera and microphone are blocked", "Allow access to your camera and microphone in the browser's address bar, then try again. You can also join without them."],
  "media-not-found": ["No camera or microphone found", "Connect a camera or microphone and try again, or join without them."],
  "lost": ["Connection lost", "Your connection to the call was lost. Check your network and rejoin."],
  "network": ["Can't reach the server", "The Otter server cannot be reached right now. Check your connection and try again."],
  "signaling-unavailable": ["Can't reach the call service", "The call service did not answer. Try again in a moment."],
  "bad-config": ["Otter is not set up correctly", "This web app has no usable configuration."],
  "left": ["You left the call", "Thanks for calling with Otter."],
};

function showError(code, detail, actions = []) {
  const [title, text] = ERRORS[code] || ["Something went wrong", detail || ""];
  $("error-title").textContent = title;
  $("error-text").textContent = text;
  $("error").dataset.code = code;
  // the app's own icon, not an emoji: a system without an emoji font shows an empty box
  const icon = document.createElement("span");
  icon.className = code === "left" ? "icon icon-leave" : "icon icon-alert";
  $("error-icon").replaceChildren(icon);
  $("error-icon").classList.toggle("ok", code === "left");
  const box = $("error-actions");
  box.replaceChildren();
  for (const a of actions) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = a.label;
    b.className = a.primary ? "primary" : "secondary";
    if (a.testid) b.dataset.testid = a.testid;
    b.addEventListener("click", a.run);
    box.append(b);
  }
  show("screen-error");
  const first = box.querySelector("button");
  (first || $("error-title")).focus?.();
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/**
 * @param {string} text
 * @param {number} [ms]
 */
function toast(text, ms = 3500) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, ms);
}

// -------------------------------------------------------------------- lobby

async function start() {
  if (isLandingUrl(location.href)) return show("screen-landing");
  // marks that the app runs (the loading screen shows from the HTML alone)
  show("screen-loading");
  try {
    state.config = Otter.resolveConfig();
  } catch {
    return showError("bad-config");
  }
  try {
    state.link = parseRoomUrl(location.href);
  } catch {
    return showError("invalid-link");
  }
  if (state.link.relay) $("relay-badge").hidden = false;
  if (isTokenExpired(state.link.token)) return showError("token-expired");
  // Ask the server whether the link is good before asking for the camera; the
  // SDK keeps the answers (and warms WebRTC up) so the click on Join starts
  // right at the signaling socket.
  try {
    state.prepared = await Otter.prepare({ roomId: state.link.roomId, token: state.link.token, iceTransportPolicy: state.link.relay ? "relay" : "all" });
  } catch (err) {
    const code = err instanceof OtterError ? err.code : "network";
    return showError(code, code === "network" || code === "bad-config" ? err.message : "",
      code === "network" ? [{ label: "Try again", primary: true, run: () => location.reload() }] : []);
  }
  const room = state.prepared.room;
  if (room && room.maxPeers) $("room-info").textContent = `Private call for up to ${room.maxPeers} people · peer-to-peer, end-to-end encrypted`;
  $("name").value = localStorage.getItem("otter.name") || "";
  show("screen-lobby");
  document.body.dataset.seat = "checking";
  watchSeat();
  await startPreview();
}

// ------------------------------------------------------------- full rooms

/**
 * Tells in the lobby whether the room is full, before the Join click; while it
 * is, checks again every few seconds, and joins by itself when a seat frees if
 * the person chose to wait.
 */
async function watchSeat() {
  clearTimeout(state.seatTimer);
  if (document.body.dataset.screen !== "lobby" || state.joining) return;
  let seat;
  try {
    seat = await checkSeat({ signalUrl: state.config.signalUrl, token: state.link.token });
  } catch {
    seat = "unknown"; // the Join click finds out
  }
  if (document.body.dataset.screen !== "lobby" || state.joining) return;
  const wasFull = document.body.dataset.seat === "full" || document.body.dataset.seat === "waiting";
  if (seat === "full" || (seat === "unknown" && wasFull)) {
    showSeat(state.waitingForSeat ? "waiting" : "full");
    state.seatTimer = setTimeout(watchSeat, SEAT_CHECK_EVERY_MS);
    return;
  }
  if (state.waitingForSeat && seat === "free") {
    state.waitingForSeat = false;
    showSeat("free");
    return joinCall(undefined, performance.now());
  }
  showSeat(seat, wasFull && seat === "free" ? "A seat is free now: you can join." : "");
}

function showSeat(seat, note = "") {
  const max = state.prepared && state.prepared.room && state.prepared.room.maxPeers;
  const seats = max === 2 ? "both seats are taken" : max ? `all ${max} seats are taken` : "every seat is taken";
  const text = {
    full: `This call is full: ${seats}. You can wait here and join as soon as someone leaves.`,
    waiting: `Waiting for a seat (${seats})… You will join as soon as someone leaves. Keep this page open.`,
  }[seat] || note;
  document.body.dataset.seat = seat;
  if ($("seat-text").textContent !== text) $("seat-text").textContent = text;
  const full = seat === "full" || seat === "waiting";
  $("join").disabled = full;
  $("seat-wait").hidden = !full;
  $("seat-wait").textContent = seat === "waiting" ? "Stop waiting" : "Wait for a seat";
  $("seat-wait").className = seat === "waiting" ? "secondary" : "primary";
}

/** @param {MediaStreamConstraints} [constraints] */
async function startPreview(constraints = { audio: true, video: true }) {
  stopPreview();
  try {
    state.preview = await getMedia(constraints);
  } catch (err) {
    return showError(err.code || "media-denied", err.message, [
      { label: "Try again", primary: true, run: () => { show("screen-lobby"); startPreview(); } },
      { label: "Join without camera and microphone", run: () => { state.preview = null; joinCall(false); } },
    ]);
  }
  state.preview.getAudioTracks().forEach((t) => { t.enabled = state.micOn; });
  state.preview.getVideoTracks().forEach((t) => { t.enabled = state.cameraOn; });
  $("preview").srcObject = state.preview;
  updateLobbyButtons();
  startMeter(state.preview);
  await fillDevices();
}

function stopPreview(keepTracks = false) {
  cancelAnimationFrame(state.meterRaf);
  if (state.audioCtx) { state.audioCtx.close().catch(() => {}); state.audioCtx = null; }
  if (state.preview && !keepTracks) state.preview.getTracks().forEach((t) => t.stop());
}

function startMeter(stream) {
  const track = stream.getAudioTracks()[0];
  const fill = $("mic-level");
  if (!track || !window.AudioContext) return;
  try {
    const ctx = new AudioContext();
    state.audioCtx = ctx;
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const an = ctx.createAnalyser();
    an.fftSize = 512;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    const tick = () => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const rms = Math.sqrt(sum / buf.length);
      const level = track.enabled ? Math.min(1, rms * 4) : 0;
      fill.style.transform = `scaleX(${level.toFixed(3)})`;
      state.meterRaf = requestAnimationFrame(tick);
    };
    ctx.resume().catch(() => {});
    tick();
  } catch {}
}

async function fillDevices() {
  let devices = [];
  try { devices = await navigator.mediaDevices.enumerateDevices(); } catch {}
  const fill = (select, kind, current) => {
    select.replaceChildren();
    const list = devices.filter((d) => d.kind === kind);
    list.forEach((d, i) => {
      const o = document.createElement("option");
      o.value = d.deviceId;
      o.textContent = d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}`;
      if (d.deviceId === current) o.selected = true;
      select.append(o);
    });
    select.disabled = list.length === 0;
  };
  const v = state.preview && state.preview.getVideoTracks()[0];
  const a = state.preview && state.preview.getAudioTracks()[0];
  fill($("camera-select"), "videoinput", v && v.getSettings().deviceId);
  fill($("mic-select"), "audioinput", a && a.getSettings().deviceId);
}

function updateLobbyButtons() {
  setToggle($("lobby-mic"), state.micOn, "Microphone on", "Microphone off", "mic");
  setToggle($("lobby-camera"), state.cameraOn, "Camera on", "Camera off", "cam");
  $("preview-off").hidden = state.cameraOn;
}

function setToggle(btn, on, onLabel, offLabel, icon) {
  btn.setAttribute("aria-pressed", String(on));
  btn.setAttribute("aria-label", on ? onLabel : offLabel);
  btn.classList.toggle("off", !on);
  const i = btn.querySelector(".icon");
  if (i) i.className = `icon icon-${icon}${on ? "" : "-off"}`;
}

function deviceChanged(kind) {
  const id = (kind === "video" ? $("camera-select") : $("mic-select")).value;
  if (state.call) {
    state.call.switchDevice(kind, id).then(() => { if (kind === "video") $("self-video") && ($("self-video").srcObject = state.call.localStream); })
      .catch((e) => toast(`Could not switch: ${e.message}`));
    return;
  }
  const v = state.preview && state.preview.getVideoTracks()[0];
  const a = state.preview && state.preview.getAudioTracks()[0];
  startPreview({
    video: kind === "video" ? { deviceId: { exact: id } } : v ? { deviceId: v.getSettings().deviceId } : true,
    audio: kind === "audio" ? { deviceId: { exact: id } } : a ? { deviceId: a.getSettings().deviceId } : true,
  });
}

// --------------------------------------------------------------------- call

async function joinCall(media, clickedAt = performance.now()) {
  const name = $("name").value.trim().slice(0, 64);
  localStorage.setItem("otter.name", name);
  $("join").disabled = true;
  $("join").textContent = "Joining…";
  state.joining = true;
  clearTimeout(state.seatTimer);
  stopPreview(true);
  state.joinStartedAt = clickedAt;
  let call;
  try {
    call = await Otter.join({
      roomId: state.link.roomId,
      token: state.link.token,
      iceTransportPolicy: state.link.relay ? "relay" : "all",
      media: media === false ? false : state.preview,
      stopTracksOnLeave: true,
      prepared: state.prepared,
      name,
    });
  } catch (err) {
    $("join").disabled = false;
    $("join").textContent = "Join call";
    state.joining = false;
    if (state.preview) state.preview.getTracks().forEach((t) => t.stop());
    const code = err instanceof OtterError ? err.code : "network";
    if (code === "room-full" && media !== false) {
      // The last seat went meanwhile: the lobby says so and offers to wait.
      show("screen-lobby");
      showSeat(state.waitingForSeat ? "waiting" : "full");
      state.seatTimer = setTimeout(watchSeat, SEAT_CHECK_EVERY_MS);
      return startPreview();
    }
    return showError(code, err.message, code === "room-full" || code === "network" || code === "signaling-unavailable"
      ? [{ label: "Try again", primary: true, run: () => location.reload() }] : []);
  }
  state.call = call;
  diagnostics.otterCall = call; // for diagnostics and the browser tests
  call.setMicrophone(state.micOn);
  call.setCamera(state.cameraOn);
  wireCall(call);
  show("screen-call");
  // on a phone the chat covers the video: it starts closed there
  if (matchMedia("(max-width: 600px)").matches && !$("side").hidden) $("toggle-side").click();
  renderSelf();
  updateControls();
  updateGrid();
  $("mic").focus();
}

function wireCall(call) {
  call.on("peer-joined", ({ peerId }) => { ensureTile(peerId); updateGrid(); });
  call.on("peer-left", ({ peerId }) => {
    const t = state.tiles.get(peerId);
    if (t) {
      // leave() also takes down every connection: that is not someone leaving you
      if (!call.left) toast(`${displayName(t.name)} left the call`);
      t.el.remove();
      state.tiles.delete(peerId);
    }
    updateGrid();
    updateSafety();
  });
  call.on("peer-rekeyed", ({ oldPeerId, peerId }) => {
    const t = state.tiles.get(oldPeerId);
    if (!t) return;
    state.tiles.delete(oldPeerId);
    state.tiles.set(peerId, t);
    t.video.dataset.testid = `video-${peerId}`;
    t.el.dataset.peer = peerId;
  });
  call.on("track", ({ peerId, stream }) => {
    const t = ensureTile(peerId);
    if (t.video.srcObject !== stream) t.video.srcObject = stream;
    t.video.play().catch(() => {});
    if (!diagnostics.otterFirstFrame) {
      // For Scripts/bench-webapp: `shown` is when Chromium expects the frame on screen (its own
      // timestamp); `callback` is when this page got to know, a main-thread task later.
      const onFrame = (_now, md) => {
        if (diagnostics.otterFirstFrame) return;
        const callback = performance.now() - state.joinStartedAt;
        const shown = md && md.expectedDisplayTime ? md.expectedDisplayTime - state.joinStartedAt : callback;
        diagnostics.otterFirstFrame = { shown, callback };
      };
      if (t.video.requestVideoFrameCallback) t.video.requestVideoFrameCallback(onFrame);
      else t.video.addEventListener("loadeddata", () => onFrame(), { once: true });
    }
  });
  call.on("peer-updated", (p) => {
    const t = ensureTile(p.peerId);
    t.name = p.name;
    t.label.textContent = displayName(p.name);
    t.el.dataset.mic = p.mic ? "on" : "off";
    t.el.dataset.camera = p.camera ? "on" : "off";
    t.micIcon.hidden = p.mic;
    t.avatar.hidden = p.camera || p.screen;
    t.avatar.textContent = initials(p.name);
    t.el.classList.toggle("screen", !!p.screen);
    updateSafety();
  });
  call.on("connection-state", (s) => {
    if (s.scope === "peer") {
      const t = state.tiles.get(s.peerId);
      if (t) setTileState(t, s.state);
      checkLost();
      return;
    }
    const badge = $("signal-status");
    const text = { reconnecting: "Reconnecting…", offline: "Offline", expired: "Link expired — the call goes on" }[s.state];
    badge.hidden = !text;
    badge.textContent = text || "";
    checkLost();
  });
  call.on("safety-code", updateSafety);
  call.on("message", (m) => {
    addChat(displayName(m.name), m.text, m.at, false);
    if ($("side").hidden || $("panel-chat").hidden) $("unread").hidden = false;
  });
  call.on("file-offer", (f) => fileRow(f.id, f.peerId, "receive", f.name, f.size, f.cancel));
  call.on("file-progress", (p) => updateFileRow(p));
  call.on("file-received", (f) => {
    const row = fileRow(f.id, f.peerId, "receive", f.name, f.size);
    const url = URL.createObjectURL(f.blob);
    row.link.href = url;
    row.link.download = f.name;
    row.link.hidden = false;
    row.el.dataset.sha256 = f.sha256;
    row.cancel.hidden = true;
    row.status.textContent = `Received · SHA-256 verified`;
    toast(`${f.name} received`);
  });
  call.on("error", (e) => {
    if (e.code === "room-full") return showError("room-full");
    if (e.code === "negotiation" || e.code === "unknown-peer") return; // recovered by the negotiation itself
    if (e.code === "hash-mismatch") toast("A file arrived damaged and was discarded");
  });
}

function initials(name) {
  const n = (name || "").trim();
  if (!n) return "?";
  return n.split(/\s+/).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

function renderSelf() {
  const grid = $("grid");
  let el = $("self-tile");
  if (!el) {
    el = document.createElement("div");
    el.className = "tile self";
    el.id = "self-tile";
    const v = document.createElement("video");
    v.id = "self-video";
    v.autoplay = true; v.muted = true; v.playsInline = true;
    v.setAttribute("aria-label", "Your camera");
    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.id = "self-avatar";
    const label = document.createElement("div");
    label.className = "tile-label";
    label.textContent = selfLabel($("name").value);
    el.append(v, avatar, label);
    grid.prepend(el);
  }
  $("self-video").srcObject = state.call.localStream;
  $("self-avatar").textContent = initials($("name").value);
  $("self-avatar").hidden = state.call.cameraOn || !!state.call.screenTrack;
}

function ensureTile(peerId) {
  let t = state.tiles.get(peerId);
  if (t) return t;
  const el = document.createElement("figure");
  el.className = "tile";
  el.dataset.peer = peerId;
  el.dataset.mic = "on";
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.dataset.testid = `video-${peerId}`;
  video.setAttribute("aria-label", "Participant video");
  const avatar = document.createElement("div");
  avatar.className = "avatar";
  avatar.hidden = true;
  const cap = document.createElement("figcaption");
  cap.className = "tile-label";
  const micIcon = document.createElement("span");
  micIcon.className = "icon icon-mic-off muted-icon";
  micIcon.setAttribute("role", "img");
  micIcon.setAttribute("aria-label", "Microphone off");
  micIcon.dataset.testid = `mic-off-${peerId}`;
  micIcon.hidden = true;
  const label = document.createElement("span");
  label.textContent = displayName("");
  cap.append(micIcon, label);
  const stateEl = document.createElement("span");
  stateEl.className = "tile-state";
  stateEl.setAttribute("role", "status");
  el.append(video, avatar, cap, stateEl);
  $("grid").append(el);
  t = { el, video, label, stateEl, micIcon, avatar, name: "" };
  state.tiles.set(peerId, t);
  setTileState(t, "connecting");
  updateGrid();
  return t;
}

function setTileState(t, s) {
  // "reconnecting": the SDK restarts the connection's ICE (its relay or network went away)
  const text = { new: "Connecting…", connecting: "Connecting…", connected: "", disconnected: "Reconnecting…", reconnecting: "Reconnecting…", failed: "Connection failed", closed: "Left" }[s] ?? s;
  t.el.dataset.state = s;
  t.stateEl.textContent = text;
  t.stateEl.hidden = !text;
}

function updateGrid() {
  const n = state.tiles.size + 1;
  $("grid").dataset.count = String(Math.min(n, 4));
  $("waiting").hidden = state.tiles.size > 0;
}

function updateSafety() {
  const peers = state.call ? state.call.peers.filter((p) => p.safetyCode) : [];
  $("safety").hidden = peers.length === 0;
  const el = $("safety-code");
  if (peers.length === 1) {
    el.textContent = peers[0].safetyCode;
  } else {
    el.replaceChildren(...peers.map((p) => {
      const s = document.createElement("span");
      s.className = "safety-entry";
      s.dataset.peer = p.peerId;
      s.textContent = `${displayName(p.name)}: ${p.safetyCode}`;
      return s;
    }));
  }
}

function updateControls() {
  const c = state.call;
  setToggle($("mic"), c.micOn, "Mute microphone", "Unmute microphone", "mic");
  setToggle($("camera"), c.cameraOn, "Turn camera off", "Turn camera on", "cam");
  const sharing = !!c.screenTrack;
  $("screen").setAttribute("aria-pressed", String(sharing));
  $("screen").setAttribute("aria-label", sharing ? "Stop sharing screen" : "Share screen");
  $("screen").classList.toggle("active", sharing);
  renderSelf();
}

function checkLost() {
  const c = state.call;
  if (!c || c.left) return;
  const signalingDown = c.signalingState === "reconnecting" || c.signalingState === "offline";
  const anyConnected = c.peers.some((p) => p.state === "connected");
  // peers the SDK is reconnecting get longer: their relay may be restarting with the server
  const wait = c.peers.some((p) => p.state === "reconnecting") ? LOST_RECONNECTING_MS : LOST_AFTER_MS;
  if (signalingDown && !anyConnected) {
    if (!state.lostTimer) state.lostTimer = setTimeout(() => {
      state.lostTimer = null;
      const cc = state.call;
      if (cc && (cc.signalingState === "reconnecting" || cc.signalingState === "offline") && !cc.peers.some((p) => p.state === "connected")) {
        cc.leave();
        state.call = null;
        showError("lost", "", [{ label: "Rejoin", primary: true, run: () => location.reload() }]);
      }
    }, wait);
  } else if (state.lostTimer) {
    clearTimeout(state.lostTimer);
    state.lostTimer = null;
  }
}

// ------------------------------------------------------------- chat & files

function addChat(who, text, at, mine) {
  const li = document.createElement("li");
  li.className = mine ? "msg mine" : "msg";
  const head = document.createElement("div");
  head.className = "msg-head";
  const b = document.createElement("strong");
  b.textContent = who;
  const time = document.createElement("time");
  const d = new Date(at);
  time.dateTime = d.toISOString();
  time.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  head.append(b, time);
  const body = document.createElement("p");
  body.className = "msg-text";
  body.textContent = text;
  li.append(head, body);
  $("chat-log").append(li);
  li.scrollIntoView({ block: "end" });
}

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function fileRow(id, peerId, direction, name, size, cancel) {
  const key = `${id}:${peerId}:${direction}`;
  let row = state.files.get(key);
  if (row) return row;
  const el = document.createElement("li");
  el.className = `file ${direction}`;
  el.dataset.fileId = id;
  el.dataset.direction = direction;
  const title = document.createElement("div");
  title.className = "file-title";
  const n = document.createElement("span");
  n.className = "file-name";
  n.textContent = name;
  const s = document.createElement("span");
  s.className = "muted";
  s.textContent = fmtSize(size);
  title.append(n, s);
  const bar = document.createElement("progress");
  bar.max = Math.max(size, 1);
  bar.value = 0;
  bar.setAttribute("aria-label", `${direction === "send" ? "Sending" : "Receiving"} ${name}`);
  const foot = document.createElement("div");
  foot.className = "file-foot";
  const status = document.createElement("span");
  status.className = "file-status";
  const peerName = displayName((state.tiles.get(peerId) || {}).name);
  status.textContent = direction === "send" ? `To ${peerName}` : `From ${peerName}`;
  const link = document.createElement("a");
  link.className = "button secondary small";
  link.textContent = "Download";
  link.hidden = true;
  link.setAttribute("aria-label", `Download ${name}`);
  const cancelBtn = document.createElement("button");
  cancelBtn.type = "button";
  cancelBtn.className = "secondary small";
  cancelBtn.textContent = "Cancel";
  cancelBtn.setAttribute("aria-label", `Cancel ${name}`);
  cancelBtn.addEventListener("click", () => { (row.cancelFn || (() => {}))(); });
  foot.append(status, link, cancelBtn);
  el.append(title, bar, foot);
  $("file-list").prepend(el);
  row = { el, bar, status, link, cancel: cancelBtn, cancelFn: cancel, size, direction, peerName };
  state.files.set(key, row);
  return row;
}

function updateFileRow(p) {
  const row = fileRow(p.id, p.peerId, p.direction, p.name, p.size);
  row.bar.value = p.bytes;
  row.el.dataset.state = p.state;
  const pct = p.size ? Math.floor((p.bytes / p.size) * 100) : 100;
  if (p.state === "sending") row.status.textContent = `To ${row.peerName} · ${pct}%`;
  else if (p.state === "receiving") row.status.textContent = `From ${row.peerName} · ${pct}%`;
  else if (p.state === "done" && p.direction === "send") { row.status.textContent = `Sent to ${row.peerName} · verified`; row.cancel.hidden = true; }
  else if (p.state === "cancelled") { row.status.textContent = "Cancelled"; row.cancel.hidden = true; }
  else if (p.state === "failed") { row.status.textContent = `Failed: ${p.error || "transfer error"}`; row.cancel.hidden = true; }
}

function sendFiles(files) {
  for (const file of files) {
    try {
      const h = state.call.sendFile(file);
      for (const p of state.call.peers) fileRow(h.id, p.peerId, "send", file.name, file.size, h.cancel);
    } catch (err) {
      toast(err.message);
    }
  }
}

// ----------------------------------------------------------------- controls

function bind() {
  $("landing-form").addEventListener("submit", (e) => {
    e.preventDefault();
    try {
      location.assign(roomLinkFromPaste($("landing-link").value));
    } catch (err) {
      $("landing-problem").textContent = err.message;
      $("landing-link").setAttribute("aria-invalid", "true");
      $("landing-link").focus();
    }
  });
  $("seat-wait").addEventListener("click", () => {
    state.waitingForSeat = !state.waitingForSeat;
    showSeat(state.waitingForSeat ? "waiting" : "full");
    $("seat-wait").focus();
  });
  $("join-form").addEventListener("submit", (e) => { e.preventDefault(); joinCall(undefined, e.timeStamp || performance.now()); });
  $("lobby-mic").addEventListener("click", () => {
    state.micOn = !state.micOn;
    state.preview && state.preview.getAudioTracks().forEach((t) => { t.enabled = state.micOn; });
    updateLobbyButtons();
  });
  $("lobby-camera").addEventListener("click", () => {
    state.cameraOn = !state.cameraOn;
    state.preview && state.preview.getVideoTracks().forEach((t) => { t.enabled = state.cameraOn; });
    updateLobbyButtons();
  });
  $("camera-select").addEventListener("change", () => deviceChanged("video"));
  $("mic-select").addEventListener("change", () => deviceChanged("audio"));

  $("mic").addEventListener("click", () => { const c = state.call; c.setMicrophone(!c.micOn); updateControls(); });
  $("camera").addEventListener("click", () => { const c = state.call; c.setCamera(!c.cameraOn); updateControls(); });
  $("screen").addEventListener("click", async () => {
    const c = state.call;
    try {
      if (c.screenTrack) await c.stopScreen(); else await c.shareScreen();
    } catch (err) {
      toast(err.code === "screen-denied" ? "Screen sharing was cancelled" : err.message);
    }
    updateControls();
    if (c.screenTrack) c.screenTrack.addEventListener("ended", () => setTimeout(updateControls, 0), { once: true });
  });
  $("leave").addEventListener("click", () => {
    if (state.call) state.call.leave();
    state.call = null;
    showError("left", "", [{ label: "Rejoin", primary: true, run: () => location.reload() }]);
  });
  $("toggle-side").addEventListener("click", () => {
    const side = $("side");
    side.hidden = !side.hidden;
    $("toggle-side").setAttribute("aria-pressed", String(!side.hidden));
    $("toggle-side").setAttribute("aria-label", side.hidden ? "Show chat and files" : "Hide chat and files");
    if (!side.hidden && !$("panel-chat").hidden) $("unread").hidden = true;
    document.body.classList.toggle("side-closed", side.hidden);
  });
  const tabs = [["tab-chat", "panel-chat"], ["tab-files", "panel-files"]];
  for (const [tab, panel] of tabs) {
    $(tab).addEventListener("click", () => {
      for (const [t2, p2] of tabs) { $(t2).setAttribute("aria-selected", String(t2 === tab)); $(p2).hidden = p2 !== panel; }
      if (panel === "panel-chat") $("unread").hidden = true;
    });
    $(tab).addEventListener("keydown", (e) => {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      const other = tab === "tab-chat" ? "tab-files" : "tab-chat";
      $(other).click();
      $(other).focus();
    });
  }
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text || !state.call) return;
    try {
      const m = state.call.send(text);
      addChat("You", m.text, m.at, true);
      if (m.delivered === 0) toast("Nobody else is here yet");
      input.value = "";
    } catch (err) {
      toast(err.message);
    }
  });
  $("file-input").addEventListener("change", (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    if (state.call && input.files.length) sendFiles([...input.files]);
    input.value = "";
  });
  const stage = document.querySelector(".stage");
  stage.addEventListener("dragover", (e) => { e.preventDefault(); });
  stage.addEventListener("drop", (/** @type {DragEvent} */ e) => { e.preventDefault(); if (state.call && e.dataTransfer.files.length) sendFiles([...e.dataTransfer.files]); });
  $("copy-link").addEventListener("click", async () => {
    const url = `${location.origin}${location.pathname}?room=${encodeURIComponent(state.link.roomId)}#token=${state.link.token}`;
    try { await navigator.clipboard.writeText(url); toast("Invite link copied"); } catch { toast(url, 8000); }
  });
  $("safety-help").addEventListener("click", () => { $("safety-tip").hidden = !$("safety-tip").hidden; });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") $("safety-tip").hidden = true;
    if (!state.call || e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target && /** @type {HTMLElement} */ (e.target).tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (e.key === "m" || e.key === "M") $("mic").click();
    if (e.key === "v" || e.key === "V") $("camera").click();
  });
  window.addEventListener("pagehide", () => { if (state.call) state.call.leave(); });
}

bind();
start();
