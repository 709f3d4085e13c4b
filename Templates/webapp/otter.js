// Otter browser SDK: private peer-to-peer calls.
//
//   import Otter from "./otter.js";
//   const call = await Otter.join({ roomUrl: location.href });
//   call.on("track", ({ peerId, stream }) => { video.srcObject = stream; });
//
// One RTCPeerConnection per remote peer (mesh, up to 4), perfect negotiation
// (the lower peerId is polite), signaling per DESIGN.md over a WebSocket that
// reconnects with backoff. Chat, state and files travel over DataChannels and
// never touch a server. Declared in otter.d.ts; the modules, one job each:
//   sdk.js         join() and the Otter namespace
//   rest.js        the REST API: config, a link's room and ICE-server checks
//   prepare.js     prepare(): the checks, certificate and warm-up ahead of join()
//   call.js        Call: a joined call's state, events and public methods
//   signaling.js   the signaling WebSocket: welcome, pings, reconnects
//   membership.js  who is in the room; peers back under a new id
//   peers.js       one RTCPeerConnection per peer; crossed first offers
//   negotiation.js perfect negotiation and ICE restarts for one connection
//   recovery.js    peer states, stalled media, fresh ICE servers for restarts
//   media.js       camera, microphone, screen, devices and their transceivers
//   channels.js    the chat channel: messages, peer state, bye, rekey
//   transfers.js   files over their own DataChannels (files.js: the protocol)
//   errors.js      OtterError

export * from "./sdk.js";
export { default } from "./sdk.js";
