// WebRTC for Node test peers. simple-peer (inside bittorrent-tracker's Client) uses the
// webrtc-polyfill package over node-datachannel, whose session descriptions are read-only:
// simple-peer rewrites their sdp, so offers and answers are handed over as plain objects.
import { RTCPeerConnection } from "webrtc-polyfill";

type Describe = (this: RTCPeerConnection) => Promise<RTCSessionDescriptionInit>;
const plain = (create: Describe): Describe =>
  async function (this: RTCPeerConnection) {
    const d = await create.call(this);
    return { type: d.type, sdp: d.sdp };
  };
const proto = RTCPeerConnection.prototype as unknown as { createOffer: Describe; createAnswer: Describe };
proto.createOffer = plain(proto.createOffer);
proto.createAnswer = plain(proto.createAnswer);

/** rtcConfig for test peers: no STUN, host candidates on loopback only. */
export const LOOPBACK_RTC_CONFIG = { iceServers: [], bindAddress: "127.0.0.1", enableIceUdpMux: false };
