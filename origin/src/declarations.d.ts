// Local types for untyped dependencies: only what Peercast touches.
declare module "node-media-server" {
  import type { Socket } from "node:net";

  /** A subscriber of a broadcast: what the library writes media to. */
  export interface NmsSubscriber {
    id: string;
    ip: string;
    protocol: "flv" | "rtmp";
    streamPath: string;
    endTime: number;
    sendBuffer(buffer: Buffer): void;
    close(): void;
  }

  export interface NmsBroadcast {
    /** The library's own resume window after a publisher drops; Peercast has its own. */
    publishGraceMs: number;
    postPlay(session: NmsSubscriber): string | null;
    donePlay(session: NmsSubscriber): void;
  }

  export interface NmsSession {
    id: string;
    ip: string;
    protocol: string;
    streamApp: string;
    streamName: string;
    streamPath: string;
    videoWidth: number;
    videoHeight: number;
    videoFramerate: number;
    /** kbit/s from the publisher's metadata, 0 when absent. */
    videoDatarate: number;
    /** FLV audio codec id from the publisher's metadata (10 = AAC), 0 when absent. */
    audioCodec: number;
    socket: Socket;
    broadcast: NmsBroadcast;
  }

  interface NmsConfig {
    bind?: string;
    rtmp?: { port: number };
    store?: { path?: string };
  }

  export default class NodeMediaServer {
    constructor(config: NmsConfig, configPath?: string);
    rtmpServer: { handleRequest(socket: Socket): void };
    on(event: "prePublish" | "prePlay" | "postPublish" | "donePublish", listener: (session: NmsSession) => void): void;
    stop(): Promise<void>;
  }
}
