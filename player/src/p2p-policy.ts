// Whether this viewer downloads and uploads over P2P, and if not, why (shown in the P2P panel).
import type { P2POffReason } from "@peercast/origin/wire";

export interface Capabilities {
  mse: boolean;
  webrtc: boolean;
  /** WebCrypto digest: only in secure contexts (https, localhost). */
  subtleCrypto: boolean;
  saveData: boolean;
  cellular: boolean;
}

export interface P2PDecision {
  download: boolean;
  upload: boolean;
  reason?: P2POffReason;
}

export function decideP2P(operatorAllows: boolean, viewerAllows: boolean, caps: Capabilities): P2PDecision {
  const off = (reason: P2POffReason): P2PDecision => ({ download: false, upload: false, reason });
  if (!operatorAllows) return off("operator");
  if (!viewerAllows) return off("viewer");
  if (!caps.mse) return off("no-mse");
  if (!caps.webrtc) return off("no-webrtc");
  // Without a hash check a peer could feed us anything: no P2P rather than unchecked P2P.
  if (!caps.subtleCrypto) return off("insecure-context");
  // Receiving from peers costs the viewer nothing extra; sending does.
  if (caps.saveData) return { download: true, upload: false, reason: "save-data" };
  if (caps.cellular) return { download: true, upload: false, reason: "cellular" };
  return { download: true, upload: true };
}

export const REASON_TEXT: Record<P2POffReason, string> = {
  operator: "P2P is turned off for this stream by its operator.",
  viewer: "You turned P2P off: everything comes from the server.",
  "no-mse": "This browser plays the stream natively, without P2P.",
  "no-webrtc": "This browser has no WebRTC: everything comes from the server.",
  "insecure-context": "P2P needs a secure (https) page to check what peers send.",
  "save-data": "Data saver is on: receiving from peers, not uploading.",
  cellular: "On a cellular connection: receiving from peers, not uploading.",
  "upload-cap": "Upload paused: this stream's upload cap is reached.",
};
