// What p2p-media-loader-core's browser bundle expects of its page, in Node: real WebRTC from
// node-datachannel (a native libdatachannel, the same protocols Chromium speaks), WebSocket
// from `ws`, and the few window/navigator fields the bundle reads. Set before the bundle loads.
import { pathToFileURL } from "node:url";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { setSctpSettings } from "node-datachannel";
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from "node-datachannel/polyfill";
import type { Core, generateStreamShortId } from "p2p-media-loader-core";
import { NET_ENV } from "./host-protocol.js";

/**
 * Loopback only: no STUN, no other interface, one socket per connection. On an emulated link
 * (a namespace of the peer's own, NET_ENV) the stream's STUN servers and the namespace's one
 * interface instead, as a browser behind that link.
 */
export class LightPeerConnection extends RTCPeerConnection {
  constructor(config: RTCConfiguration = {}) {
    const emulated = process.env[NET_ENV] === "1";
    const own = emulated ? { enableIceUdpMux: false } : { iceServers: [], bindAddress: "127.0.0.1", enableIceUdpMux: false };
    super({ ...config, ...own });
    // libdatachannel never signals the end of the candidates (a null candidate, as browsers
    // do); simple-peer, inside the engine, waits for it up to 5 s before it sends an offer or
    // an answer, so light peers took 10 s to connect. Loopback has one host candidate: the list
    // ends once gathering is complete and a candidate went out.
    let candidates = 0;
    let ended = false;
    const end = () => {
      if (ended || candidates === 0 || this.iceGatheringState !== "complete") return;
      ended = true;
      const handler = this.onicecandidate as ((e: { candidate: null }) => void) | null;
      handler?.call(this, { candidate: null });
    };
    this.addEventListener("icecandidate", (e) => {
      if (!(e as RTCPeerConnectionIceEvent).candidate) return;
      candidates++;
      queueMicrotask(end);
    });
    this.addEventListener("icegatheringstatechange", end);
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

/**
 * Bytes of HTTP responses dropped unread because their download was aborted (the engine gave
 * up on it, or the peer left): the origin sent them, so the load test's HTTP reconciliation
 * counts them beside what peers read.
 */
export const abandonedHttp = { bytes: 0 };

/** From now on, this process's fetch counts what an aborted download leaves unread. */
export function countAbandonedHttp(): void {
  const fetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const res = await fetch(input, init);
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const length = Number(res.headers.get("content-length") ?? Number.NaN);
    if (!signal || !res.body || !Number.isFinite(length)) return res;
    const reader = res.body.getReader();
    let read = 0;
    signal.addEventListener("abort", () => (abandonedHttp.bytes += Math.max(0, length - read)), { once: true });
    const body = new ReadableStream<Uint8Array>(
      {
        // Counted as the consumer pulls: bytes still queued when it aborts count as abandoned.
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) return c.close();
          read += value.byteLength;
          c.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

let installed = false;

/**
 * libdatachannel's SCTP send buffer (1 MiB by default) takes a whole segment at once: the
 * channel's bufferedAmount, which simple-peer's backpressure and the engine's upload slots
 * follow, stayed near zero while the bytes waited behind a 1 Mbit/s uplink, and a light peer
 * served every requester at once where Chromium (whose bufferedAmount counts all not yet sent)
 * serves its slots. 128 KiB still fills the emulated uplinks (50 Mbit/s at 20 ms, 5 at 160 ms).
 */
const SCTP_SEND_BUFFER_BYTES = 128 * 1024;

function installBrowserGlobals(): void {
  if (installed) return;
  installed = true;
  setSctpSettings({ sendBufferSize: SCTP_SEND_BUFFER_BYTES });
  const g = globalThis as Record<string, unknown>;
  g.window = globalThis;
  // The tracker client reads location.protocol to refuse ws:// from an https page.
  g.location = { protocol: "http:", href: "http://127.0.0.1/" };
  if (!("navigator" in globalThis)) g.navigator = { userAgent: "Peercast light peer (Node)" };
  g.WebSocket = WebSocket;
  g.RTCPeerConnection = LightPeerConnection;
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
