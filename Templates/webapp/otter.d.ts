// Type declarations for the Otter browser SDK (otter.js).

export const VERSION: string;

export type OtterErrorCode =
  | "invalid-link" | "token-expired" | "room-not-found" | "room-full"
  | "media-denied" | "media-not-found" | "screen-denied" | "network"
  | "signaling-unavailable" | "bad-config" | "bad-message" | "no-peers" | string;

export class OtterError extends Error {
  constructor(code: OtterErrorCode, message: string, extra?: object);
  readonly name: "OtterError";
  readonly code: OtterErrorCode;
  readonly status?: number;
}

/** The public config from /config.js (`window.OTTER_CONFIG`). */
export interface OtterConfig {
  apiUrl: string;
  signalUrl: string;
  /** path template, default "/rooms/{roomId}/ice-servers" */
  iceServersPath?: string;
  stunUrls?: string[];
}

export interface JoinOptions {
  /** a room link `<app>/?room=<roomId>#token=<jwt>` (may carry `relay=1`) */
  roomUrl?: string;
  roomId?: string;
  token?: string;
  config?: OtterConfig;
  /** a stream to send, constraints for getUserMedia (default audio+video), or false to only receive */
  media?: MediaStream | MediaStreamConstraints | false;
  name?: string;
  /** "relay" forces all media through TURN */
  iceTransportPolicy?: "all" | "relay";
  /** default: stop only the tracks the SDK acquired itself */
  stopTracksOnLeave?: boolean;
  /** what prepare() did for this link: its checks are not repeated while it is fresh */
  prepared?: Preparation;
  /** ms this side, already in the room, waits for a newcomer's offer before offering itself (default 1500) */
  offerWaitMs?: number;
}

/** The link options of join(), for prepare(). */
export type PrepareOptions = Pick<JoinOptions, "roomUrl" | "roomId" | "token" | "config" | "iceTransportPolicy">;

/** What prepare() did ahead of join(): the server's checks, the certificate, a WebRTC warm-up. */
export interface Preparation {
  readonly roomId: string;
  /** the room as the server describes it (e.g. maxPeers) */
  readonly room: { roomId: string; maxPeers: number; [k: string]: unknown };
  readonly iceServers: RTCIceServer[];
  readonly relay: boolean;
  readonly preparedAt: number;
  readonly maxAgeMs: number;
}

/**
 * A peer connection as the SDK tells it: the browser's own states, except that
 * once connected, a connection whose media path broke (ICE disconnected or
 * failed, or nothing received for 1.5 s, or the peer restarted ICE) is "reconnecting" while the SDK
 * restarts ICE with fresh ICE servers, asked for after the loss (retrying with backoff for as long as
 * the call lasts), and "failed" only when it cannot any more (signaling
 * expired or gone). "disconnected" is never told: it is "reconnecting".
 */
export type PeerConnectionState = "new" | "connecting" | "connected" | "reconnecting" | "failed" | "closed";
export type SignalingState = "connecting" | "connected" | "reconnecting" | "offline" | "expired" | "closed";

export interface PeerInfo {
  peerId: string;
  name: string;
  state: PeerConnectionState;
  mic: boolean;
  camera: boolean;
  screen: boolean;
  safetyCode: string | null;
}

export interface FileProgress {
  peerId: string;
  id: string;
  name: string;
  direction: "send" | "receive";
  bytes: number;
  size: number;
  state: "sending" | "receiving" | "done" | "failed" | "cancelled";
  sha256?: string;
  error?: string;
}

export interface CallEvents {
  "peer-joined": { peerId: string };
  "peer-left": { peerId: string };
  "peer-updated": { peerId: string; name: string; mic: boolean; camera: boolean; screen: boolean };
  "peer-rekeyed": { oldPeerId: string; peerId: string };
  "track": { peerId: string; track: MediaStreamTrack; stream: MediaStream };
  "message": { peerId: string; name: string; text: string; id: string; at: number };
  "file-offer": { peerId: string; id: string; name: string; size: number; type: string; cancel(): void };
  "file-progress": FileProgress;
  "file-received": { peerId: string; id: string; name: string; size: number; type: string; sha256: string; blob: Blob };
  "safety-code": { peerId: string; code: string };
  "connection-state":
    | { scope: "signaling"; state: SignalingState }
    | { scope: "peer"; peerId: string; state: PeerConnectionState;
        /** with "reconnecting": ICE restarts made so far in this recovery */
        attempt?: number };
  "error": { code: OtterErrorCode; message: string; peerId?: string; fatal?: boolean };
}

export interface FileTransfer {
  id: string;
  name: string;
  size: number;
  /** resolves when every receiver confirmed the SHA-256 */
  done: Promise<{ id: string; sha256: string; size: number }[]>;
  cancel(): void;
}

export class Call extends EventTarget {
  /** Calls are made by join(), not with `new`. */
  constructor(init: never);
  readonly roomId: string;
  /** this side's peerId; changes after a signaling reconnect */
  readonly peerId: string | null;
  readonly localStream: MediaStream;
  readonly relay: boolean;
  readonly micOn: boolean;
  readonly cameraOn: boolean;
  readonly screenTrack: MediaStreamTrack | null;
  readonly signalingState: SignalingState;
  readonly peers: PeerInfo[];
  readonly timings: { api?: number; welcome?: number; firstConnected?: number };
  on<K extends keyof CallEvents>(type: K, fn: (detail: CallEvents[K]) => void): () => void;
  connectionTo(peerId: string): RTCPeerConnection | null;
  setMicrophone(on: boolean): void;
  setCamera(on: boolean): void;
  setName(name: string): void;
  shareScreen(): Promise<MediaStreamTrack>;
  stopScreen(): Promise<void>;
  switchDevice(kind: "audio" | "video" | "audioinput" | "videoinput", deviceId: string): Promise<MediaStreamTrack>;
  send(text: string): { id: string; text: string; at: number; delivered: number };
  sendFile(file: File | Blob, opts?: { to?: string }): FileTransfer;
  leave(): void;
}

/** Joins a room; resolves once welcomed and the offers to the peers already there are sent (at most ~300 ms more). */
export function join(options: JoinOptions): Promise<Call>;
/** The link's checks, the DTLS certificate and a WebRTC warm-up, ahead of join() (e.g. in a lobby); nobody in the room learns of it. */
export function prepare(options: PrepareOptions): Promise<Preparation>;
export function getMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
export function resolveConfig(config?: OtterConfig): Required<OtterConfig>;

declare const Otter: {
  readonly VERSION: string;
  join: typeof join;
  prepare: typeof prepare;
  getMedia: typeof getMedia;
  resolveConfig: typeof resolveConfig;
  parseRoomUrl(url: string): { roomId: string; token: string; relay: boolean; base: string };
  OtterError: typeof OtterError;
  Call: typeof Call;
};
export default Otter;
