import net from "node:net";
import path from "node:path";
import NodeMediaServer, { type NmsSession, type NmsSubscriber } from "node-media-server";
import type { Logger } from "pino";
import { keyFingerprint, type KeyStore } from "../keys/key-store.js";
import type { Metrics } from "../metrics.js";
import { bridgeLibraryLogs } from "./library-log-bridge.js";

/** A publish that passed the key check, handed to the session layer. */
export interface IncomingPublish {
  id: string;
  ip: string;
  stream: string;
  keyFingerprint: string;
  /** Source size and rate as announced in the publisher's metadata (0 when absent). */
  announced(): { width: number; height: number; fps: number; videoKbps: number; hasAudio: boolean };
  /** False once the key this publisher used was revoked or moved to another stream. */
  keyStillValid(): boolean;
  /** Starts delivering FLV (header, then tags) to `onTag`. */
  subscribe(onTag: (flv: Buffer) => void): void;
  onClose(cb: () => void): void;
  disconnect(reason: string): void;
}

/** Returns a refusal reason, or null to accept. */
export type AdmitPublish = (p: IncomingPublish) => string | null;

/** Thrown from the library's hooks: it unwinds its parser, so it records nothing more. */
class Refused extends Error {}

// Handshake and commands before a publish fit in a few KiB: more is not a publisher.
const MAX_BYTES_BEFORE_PUBLISH = 64 * 1024;

export interface RtmpIngestOptions {
  host: string;
  port: number;
  app: string;
  maxConnections: number;
  /** A connection must start publishing within this time, and a publisher never go silent longer. */
  timeoutMs: number;
  dataDir: string;
  keys: KeyStore;
  log: Logger;
  metrics: Metrics;
  admit: AdmitPublish;
}

/**
 * RTMP ingest on node-media-server's protocol code. We own the listening socket so that
 * every connection is guarded: a connection cap, an idle timeout, and a try/catch around
 * the library's parser (it throws on malformed input, which would crash the process).
 */
export class RtmpIngest {
  private readonly nms: NodeMediaServer;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Connections from the built-in test source's private listener, and the stream they publish. */
  private readonly internal = new WeakMap<net.Socket, string>();
  private internalServer: net.Server | undefined;
  /** Connections not yet publishing: their deadline and the bytes they sent so far. */
  private readonly pending = new WeakMap<net.Socket, { deadline: NodeJS.Timeout; bytes: number }>();
  private readonly log: Logger;
  private nextSubscriber = 0;

  constructor(private readonly o: RtmpIngestOptions) {
    this.log = o.log.child({ component: "rtmp" });
    bridgeLibraryLogs(this.log.child({ component: "node-media-server" }));
    // No rtmp/http ports: the library listens on nothing and its store is never opened.
    this.nms = new NodeMediaServer({ store: { path: path.join(o.dataDir, "nms") } });
    this.nms.on("prePublish", (s) => this.onPrePublish(s));
    this.nms.on("prePlay", (s) => {
      this.o.metrics.rtmpRefused.inc({ reason: "play" });
      this.log.warn({ ip: s.ip }, "RTMP playback is not offered, closing");
      s.socket.destroy();
      throw new Refused();
    });
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off("error", reject);
        const port = (this.server.address() as net.AddressInfo).port;
        this.log.info({ host: this.o.host, port }, "RTMP ingest listening");
        resolve(port);
      });
    });
  }

  /**
   * A private loopback listener for the built-in test source: it publishes through the same
   * RTMP code as OBS, but needs no key on its command line (where `ps` would show it).
   */
  async listenInternal(stream: string): Promise<{ url: string; expectConnection(): void }> {
    // One connection per expectConnection(), from the source just started: another local
    // process would have to win a race of milliseconds, and then only once.
    let expected = false;
    const server = net.createServer((socket) => {
      if (!expected) return void socket.destroy();
      expected = false;
      this.internal.set(socket, stream);
      this.onConnection(socket);
    });
    this.internalServer = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      url: `rtmp://127.0.0.1:${(server.address() as net.AddressInfo).port}/${this.o.app}/test-source`,
      expectConnection: () => (expected = true),
    };
  }

  async close(): Promise<void> {
    this.internalServer?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await this.nms.stop();
    await closed;
  }

  private onConnection(socket: net.Socket): void {
    if (this.sockets.size >= this.o.maxConnections) {
      this.o.metrics.rtmpRefused.inc({ reason: "too_many_connections" });
      this.log.warn({ ip: socket.remoteAddress }, "RTMP connection refused: too many connections");
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const closeFor = (reason: string, message: string) => () => {
      this.o.metrics.rtmpRefused.inc({ reason });
      this.log.info({ ip: socket.remoteAddress }, message);
      socket.destroy();
    };
    const deadline = setTimeout(closeFor("publish_timeout", "RTMP connection did not publish in time, closing"), this.o.timeoutMs);
    this.pending.set(socket, { deadline, bytes: 0 });
    socket.on("close", () => {
      clearTimeout(deadline);
      this.sockets.delete(socket);
    });
    socket.setTimeout(this.o.timeoutMs, closeFor("idle", "RTMP connection idle, closing"));
    this.nms.rtmpServer.handleRequest(socket);
    this.guardParser(socket);
  }

  /**
   * Wraps the library's data handler: malformed input (the library throws) closes one socket,
   * not the process; a closed socket's remaining data is dropped; and before it publishes a
   * connection may send only a few KiB (the library buffers whatever it is told to expect).
   */
  private guardParser(socket: net.Socket): void {
    const handlers = socket.listeners("data") as ((chunk: Buffer) => void)[];
    socket.removeAllListeners("data");
    socket.on("data", (chunk: Buffer) => {
      if (socket.destroyed) return;
      const pending = this.pending.get(socket);
      if (pending && (pending.bytes += chunk.length) > MAX_BYTES_BEFORE_PUBLISH + chunk.length) {
        this.o.metrics.rtmpRefused.inc({ reason: "too_much_before_publish" });
        this.log.warn({ ip: socket.remoteAddress }, "RTMP connection sent too much before publishing, closing");
        return void socket.destroy();
      }
      try {
        for (const h of handlers) h(chunk);
      } catch (err) {
        if (err instanceof Refused) return;
        this.o.metrics.rtmpRefused.inc({ reason: "malformed" });
        this.log.warn({ ip: socket.remoteAddress, err: (err as Error).message }, "malformed RTMP data, closing");
        socket.destroy();
      }
    });
  }

  private onPrePublish(s: NmsSession): void {
    // Our own grace logic decides reconnects; the library's would keep refused sessions around.
    s.broadcast.publishGraceMs = 0;
    const fingerprint = keyFingerprint(s.streamName);
    const refuse = (reason: string, metricReason: string): never => {
      this.o.metrics.rtmpRefused.inc({ reason: metricReason });
      this.log.warn({ ip: s.ip, keyFingerprint: fingerprint, reason }, "publish refused");
      s.socket.destroy();
      throw new Refused(reason);
    };
    if (s.streamApp !== this.o.app) return refuse(`unknown application (use /${this.o.app})`, "bad_app");
    const internalStream = this.internal.get(s.socket);
    const stream = internalStream ?? this.o.keys.streamFor(s.streamName);
    if (!stream) return refuse("unknown stream key", "bad_key");
    const publish = this.toIncoming(s, stream, internalStream ? "test-source" : fingerprint);
    const refusal = this.o.admit(publish);
    if (refusal) return refuse(refusal, "admission");
    const pending = this.pending.get(s.socket);
    if (pending) clearTimeout(pending.deadline);
    this.pending.delete(s.socket);
  }

  private toIncoming(s: NmsSession, stream: string, fingerprint: string): IncomingPublish {
    let subscriber: NmsSubscriber | undefined;
    return {
      id: s.id,
      ip: s.ip,
      stream,
      keyFingerprint: fingerprint,
      announced: () => ({
        width: s.videoWidth || 0,
        height: s.videoHeight || 0,
        fps: s.videoFramerate || 0,
        videoKbps: Math.round(s.videoDatarate || 0),
        hasAudio: (s.audioCodec || 0) > 0,
      }),
      keyStillValid: () => this.internal.has(s.socket) || this.o.keys.streamFor(s.streamName) === stream,
      subscribe: (onTag) => {
        subscriber = {
          id: `peercast-feed-${++this.nextSubscriber}`,
          ip: "", // internal subscriber: the library skips its play hooks for these
          protocol: "flv",
          streamPath: s.streamPath,
          endTime: 0,
          sendBuffer: onTag,
          close: () => {},
        };
        s.broadcast.postPlay(subscriber);
      },
      onClose: (cb) =>
        s.socket.once("close", () => {
          if (subscriber) s.broadcast.donePlay(subscriber);
          cb();
        }),
      disconnect: (reason) => {
        this.log.info({ stream, keyFingerprint: fingerprint, reason }, "disconnecting publisher");
        s.socket.destroy();
      },
    };
  }
}
