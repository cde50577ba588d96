// Local types for bittorrent-tracker: only the parts Peercast uses.
declare module "bittorrent-tracker/server" {
  import { EventEmitter } from "node:events";
  import type { WebSocket } from "ws";

  /** What the library's Server needs from a swarm (see its lib/server/swarm.js). */
  export interface SwarmLike {
    infoHash: string;
    complete: number;
    incomplete: number;
    peers: { get(peerId: string): { socket: WebSocket } | undefined };
    announce(params: AnnounceParams, cb?: (err: Error | null, response?: AnnounceResponse) => void): void;
    scrape(params: unknown, cb: (err: Error | null, response?: { complete: number; incomplete: number }) => void): void;
  }

  export interface AnnounceParams {
    type: "ws";
    event: "started" | "stopped" | "completed" | "update" | "paused";
    numwant: number;
    /** hex */
    peer_id: string;
    /** hex */
    info_hash: string;
    left?: number;
    socket?: WebSocket;
    offers?: { offer_id: string }[];
    /** Set when the message relays a WebRTC answer (the library passes it through the swarm too). */
    answer?: unknown;
  }

  export interface AnnounceResponse {
    complete: number;
    incomplete: number;
    /** Ours: the library sends the answer's other fields to the client as they are. */
    slot?: number;
    peers: { peerId: string; socket: WebSocket }[];
  }

  export default class Server extends EventEmitter {
    constructor(opts: { http: boolean; udp: boolean; ws: boolean; stats: boolean; trustProxy?: boolean; interval?: number });
    torrents: Record<string, SwarmLike>;
    onWebSocketConnection(socket: WebSocket, opts?: { trustProxy?: boolean }): void;
    createSwarm(infoHash: string, cb: (err: Error | null, swarm: SwarmLike) => void): void;
    getSwarm(infoHash: string, cb: (err: Error | null, swarm: SwarmLike | undefined) => void): void;
    close(cb?: () => void): void;
  }
}

declare module "bittorrent-tracker" {
  import { EventEmitter } from "node:events";
  export default class Client extends EventEmitter {
    constructor(opts: { infoHash: Uint8Array; peerId: Uint8Array; announce: string[]; port: number; rtcConfig?: unknown; wrtc?: unknown });
    start(): void;
    destroy(): void;
  }
}
