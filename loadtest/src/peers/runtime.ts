// What p2p-media-loader-core's browser bundle expects of its page, in Node: real WebRTC from
// node-datachannel (a native libdatachannel, the same protocols Chromium speaks), WebSocket
// from `ws`, and the few window/navigator fields the bundle reads. Set before the bundle loads.
import { pathToFileURL } from "node:url";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from "node-datachannel/polyfill";
import type { Core, generateStreamShortId } from "p2p-media-loader-core";

/** Loopback only: no STUN, no other interface, one socket per connection. */
class LoopbackPeerConnection extends RTCPeerConnection {
  constructor(config: RTCConfiguration = {}) {
    super({ ...config, iceServers: [], bindAddress: "127.0.0.1", enableIceUdpMux: false } as RTCConfiguration);
  }

  // simple-peer rewrites `sdp` on what these return; the polyfill's objects are read-only.
  override async createOffer(): Promise<RTCSessionDescriptionInit> {
    const d = await super.createOffer();
    return { type: d.type, sdp: d.sdp };
  }

  override async createAnswer(): Promise<RTCSessionDescriptionInit> {
    const d = await super.createAnswer();
    return { type: d.type, sdp: d.sdp };
  }
}

let installed = false;

function installBrowserGlobals(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as Record<string, unknown>;
  g.window = globalThis;
  // The tracker client reads location.protocol to refuse ws:// from an https page.
  g.location = { protocol: "http:", href: "http://127.0.0.1/" };
  if (!("navigator" in globalThis)) g.navigator = { userAgent: "Peercast light peer (Node)" };
  g.WebSocket = WebSocket;
  g.RTCPeerConnection = LoopbackPeerConnection;
  g.RTCSessionDescription = RTCSessionDescription;
  g.RTCIceCandidate = RTCIceCandidate;
}

const CORE_BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../core/p2p-media-loader-core.es.js");

export interface CoreModule {
  Core: typeof Core;
  /** How the engine names a rendition's swarm: the hls.js integration's own function. */
  generateStreamShortId: typeof generateStreamShortId;
}

/**
 * The engine from a module instance of its own: the bundle keeps a peer id per info hash and
 * the tracker client's socket pool at module level, so peers sharing an instance would share
 * one identity and one tracker socket.
 */
export async function loadCoreModule(peerId: string): Promise<CoreModule> {
  installBrowserGlobals();
  return (await import(`${pathToFileURL(CORE_BUNDLE).href}?peer=${encodeURIComponent(peerId)}`)) as CoreModule;
}
