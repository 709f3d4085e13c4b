// otter.d.ts against the SDK's JavaScript, by TypeScript's checker (tsc -p
// Tests/webapp, run by Scripts/test): "../../Templates/webapp/otter.js"
// resolves to the declarations, "sdk.js" to the code otter.js re-exports.
import Otter, * as Declared from "../../Templates/webapp/otter.js";
import * as Code from "../../Templates/webapp/sdk.js";

// Every declared export exists in the code, with a type the declaration allows.
const exported: typeof Declared = Code;

// The public API as a page uses it, through the declarations.
async function usage(): Promise<void> {
  const prepared = await Otter.prepare({ roomUrl: "https://otter.example/?room=r#token=t" });
  const call = await Otter.join({ prepared, roomUrl: "https://otter.example/?room=r#token=t", media: false, name: "Ann" });
  const off = call.on("track", ({ peerId, stream }) => console.log(peerId, stream.id));
  off();
  call.on("connection-state", (s) => { if (s.scope === "peer") console.log(s.peerId, s.state, s.attempt); });
  call.on("file-received", ({ blob, sha256 }) => console.log(blob.size, sha256));
  const sent: number = call.send("hi").delivered;
  const transfer = call.sendFile(new Blob(["x"]), { to: call.peers[0]?.peerId });
  await transfer.done;
  call.setMicrophone(false);
  await call.switchDevice("videoinput", "cam-2");
  const pc: RTCPeerConnection | null = call.connectionTo("p");
  console.log(sent, pc, call.signalingState, call.timings.welcome, Otter.parseRoomUrl("x").roomId, Otter.VERSION);
  call.leave();
  try { Otter.resolveConfig(); } catch (err) { if (err instanceof Otter.OtterError) console.log(err.code, err.status); }
}
console.log(exported, usage);
