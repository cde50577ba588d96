import net from "node:net";
import path from "node:path";
import NodeMediaServer, { type NmsSession, type NmsSubscriber } from "node-media-server";
import type { Logger } from "pino";
import { keyFingerprint, type KeyStore } from "../keys/key-store.js";
import type { Metrics } from "../metrics.js";
import { rateKey } from "../stats/client-limiter.js";
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
// What a client sends for the handshake: C0 (version byte), C1 and C2 (1536 bytes each).
const HANDSHAKE_BYTES = 1 + 1536 + 1536;
// A flood of refused connections logs one line per reason this often, with the count it stands for.
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export interface RtmpIngestOptions {
  host: string;
  port: number;
  app: string;
  maxConnections: number;
  /** Open connections per address (IPv6: per /64): one address cannot take all of maxConnections. */
  maxConnectionsPerAddress: number;
  /** A connection must have sent its whole RTMP handshake within this time. */
  handshakeTimeoutMs: number;
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
 * every connection is guarded: connection caps (in all and per address), handshake, publish
 * and idle deadlines, and a try/catch around the library's parser (it throws on malformed
 * input, which would crash the process).
 */
export class RtmpIngest {
  private readonly nms: NodeMediaServer;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Open connections per address key (see rateKey); an address leaves the map at 0. */
  private readonly perAddress = new Map<string, number>();
  /** Refusals not yet logged, per reason, and when each reason was last logged. */
  private readonly refusalLog = new Map<string, { lastMs: number; unlogged: number }>();
  /** Connections from the built-in test source's private listener, and the stream they publish. */
  private readonly internal = new WeakMap<net.Socket, string>();
  private internalServer: net.Server | undefined;
  /** Connections not yet publishing: their deadlines and the bytes they sent so far. */
  private readonly pending = new WeakMap<net.Socket, { deadline: NodeJS.Timeout; handshakeDeadline: NodeJS.Timeout | undefined; bytes: number }>();
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
  async listenInternal(stream: string): Promise<{ url: string; expectConnection: () => void }> {
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
    // The test source's own listener takes one expected connection at a time: no address cap.
    const address = this.internal.has(socket) ? undefined : rateKey(socket.remoteAddress ?? "unknown");
    const fromAddress = address === undefined ? 0 : (this.perAddress.get(address) ?? 0);
    if (address !== undefined && fromAddress >= this.o.maxConnectionsPerAddress) {
      return this.refuseConnection(socket, "too_many_from_address", "RTMP connection refused: too many connections from this address");
    }
    if (this.sockets.size >= this.o.maxConnections) {
      return this.refuseConnection(socket, "too_many_connections", "RTMP connection refused: too many connections");
    }
    this.sockets.add(socket);
    if (address !== undefined) this.perAddress.set(address, fromAddress + 1);
    const closeFor = (reason: string, message: string) => () => {
      this.o.metrics.rtmpRefused.inc({ reason });
      this.log.info({ ip: socket.remoteAddress }, message);
      socket.destroy();
    };
    const deadline = setTimeout(closeFor("publish_timeout", "RTMP connection did not publish in time, closing"), this.o.timeoutMs);
    // Shorter than the publish deadline: a connection that sends nothing costs a slot only briefly.
    const handshakeDeadline = setTimeout(
      closeFor("handshake_timeout", "RTMP connection did not complete the handshake in time, closing"),
      this.o.handshakeTimeoutMs,
    );
    this.pending.set(socket, { deadline, handshakeDeadline, bytes: 0 });
    socket.on("close", () => {
      clearTimeout(deadline);
      clearTimeout(handshakeDeadline);
      this.sockets.delete(socket);
      if (address === undefined) return;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    socket.setTimeout(this.o.timeoutMs, closeFor("idle", "RTMP connection idle, closing"));
    this.nms.rtmpServer.handleRequest(socket);
    this.guardParser(socket);
  }

  /** Closes a connection at once; a flood of them is logged as one line per interval. */
  private refuseConnection(socket: net.Socket, reason: string, message: string): void {
    const ip = socket.remoteAddress; // read before destroy(), which drops it
    this.o.metrics.rtmpRefused.inc({ reason });
    socket.destroy();
    const now = Date.now();
    const entry = this.refusalLog.get(reason) ?? { lastMs: -Infinity, unlogged: 0 };
    this.refusalLog.set(reason, entry);
    entry.unlogged++;
    if (now - entry.lastMs < REFUSAL_LOG_INTERVAL_MS) return;
    // refused: the refusals (of any address) this line stands for, since the last one.
    this.log.warn({ ip, refused: entry.unlogged }, message);
    entry.lastMs = now;
    entry.unlogged = 0;
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
      if (pending && (pending.bytes += chunk.length) >= HANDSHAKE_BYTES && pending.handshakeDeadline) {
        clearTimeout(pending.handshakeDeadline);
        pending.handshakeDeadline = undefined;
      }
      if (pending && pending.bytes > MAX_BYTES_BEFORE_PUBLISH + chunk.length) {
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
    if (pending) {
      clearTimeout(pending.deadline);
      clearTimeout(pending.handshakeDeadline);
    }
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
