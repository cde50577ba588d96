import { LOG_FORMATS, parseEnv, type LogFormat } from "@peercast/origin/service";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

// Keys are the environment variable names, so a failure names the variable to fix.
/** The service's environment variables: parsed at start, and the source of docs/configuration.md. */
export const trackerEnvSchema = z
  .object({
    PEERCAST_TRACKER_HOST: z.string().min(1).default("0.0.0.0").meta({ description: "listen address" }),
    PEERCAST_TRACKER_PORT: port.default(8000).meta({ description: "WebSocket port (and `/healthz`)" }),
    // /metrics and /stats.json: operators' and Prometheus's, not the players' (loopback by default).
    PEERCAST_TRACKER_METRICS_HOST: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .meta({ description: "listen address of `/metrics` and `/stats.json` (containers: `0.0.0.0`, on the container network only)" }),
    PEERCAST_TRACKER_METRICS_PORT: port
      .default(8001)
      .meta({ description: "port of `/metrics` and `/stats.json` (0 = any free port; must differ from `PEERCAST_TRACKER_PORT`)" }),
    // One origin, or every origin shard (comma-separated): a tracker shard's streams may be on any.
    PEERCAST_ORIGIN_URL: z
      .string()
      .default("http://127.0.0.1:8080")
      .transform((v) => v.split(",").map((u) => u.trim().replace(/\/$/, "")))
      .pipe(z.array(z.url({ protocol: /^https?$/ })).min(1))
      .meta({
        description:
          "the origin whose live sessions are the valid swarms; with origin shards, all of them, comma-separated (an origin that stops answering keeps its known swarms, and `/healthz` reports the longest silence)",
        default: "`http://127.0.0.1:8080`",
      }),
    PEERCAST_TRACKER_POLL_MS: positiveInt.default(2000).meta({ description: "how often the origin is asked" }),
    PEERCAST_TRACKER_MAX_MESSAGE_BYTES: positiveInt.default(64 * 1024).meta({ description: "largest WebSocket message (larger: close 1009)" }),
    PEERCAST_TRACKER_MESSAGES_PER_SEC: positiveInt.default(20).meta({ description: "sustained messages per connection" }),
    PEERCAST_TRACKER_MESSAGE_BURST: positiveInt.default(60).meta({ description: "burst above that rate" }),
    // Open connections in all: what one tracker process is sized for (20k viewers, ~400 MiB).
    PEERCAST_TRACKER_MAX_CONNECTIONS: positiveInt.default(20_000).meta({
      description:
        "open connections in all (what one tracker process is sized for, see the capacity model in [deployment.md](deployment.md)); more are refused with 429 (`too_many_connections`)",
    }),
    // Standing cap per address: well above a campus or carrier-grade NAT's audience (each
    // connection is bounded by the per-connection limits); what stops floods is the rate below.
    PEERCAST_TRACKER_CONNECTIONS_PER_IP: positiveInt
      .default(4096)
      .meta({ description: "open connections per client address (a NAT's whole audience; see [tracker.md](tracker.md))" }),
    PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: positiveInt
      .default(1200)
      .meta({ description: "new connections per minute per client address, sustained (token bucket)" }),
    PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: positiveInt.default(200).meta({ description: "new connections a client address may open at once above that rate" }),
    PEERCAST_TRACKER_SWARMS_PER_CONNECTION: positiveInt.default(16).meta({ description: "swarms (renditions) one connection may join" }),
    PEERCAST_TRACKER_OFFERS_PER_ANNOUNCE: positiveInt.default(5).meta({ description: "WebRTC offers in one announce (players send 5)" }),
    PEERCAST_TRACKER_MIN_OFFERS_GAP_MS: z.coerce.number().int().min(0).default(5000).meta({
      description:
        "offers from one connection into one swarm at most this often (players send them once an interval; more often is refused as `offers_too_often` and answered with no peers)",
    }),
    PEERCAST_TRACKER_IDLE_TIMEOUT_MS: positiveInt.default(60_000).meta({ description: "a socket that answers no ping for this long is closed" }),
    PEERCAST_TRACKER_ANNOUNCE_INTERVAL_SEC: positiveInt.default(60).meta({
      description:
        "announce interval told to clients (a peer's first three answers: at most 10 s, so that a newcomer soon meets more than the 5 peers its first offers went to), each answer spread by ±20 % so that a crowd that joined together does not announce together; silent peers expire after two of the longest",
    }),
    PEERCAST_TRACKER_TRUST_PROXY: z
      .enum(["0", "1"])
      .default("0")
      .transform((v) => v === "1")
      .meta({ description: "take the client address from the last `X-Forwarded-For` entry (behind one proxy), if it is an IP address", default: "`0`" }),
    PEERCAST_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info").meta({ description: "pino level" }),
    PEERCAST_LOG_FORMAT: z.enum(LOG_FORMATS).default("auto").meta({
      description:
        "`auto`: readable lines on a terminal, JSON lines otherwise (a pipe, a container); `json` or `pretty` always (`npm start` shows its services' lines readable on a terminal unless this is `json`)",
    }),
  })
  .refine((e) => e.PEERCAST_TRACKER_METRICS_PORT === 0 || e.PEERCAST_TRACKER_METRICS_PORT !== e.PEERCAST_TRACKER_PORT, {
    path: ["PEERCAST_TRACKER_METRICS_PORT"],
    message: "must differ from PEERCAST_TRACKER_PORT (metrics have a listener of their own)",
  });

export interface TrackerConfig {
  host: string;
  port: number;
  /** The HTTP listener for /metrics and /stats.json (port 0: any free port). */
  metrics: { host: string; port: number };
  /** Every origin whose live sessions are valid swarms. */
  originUrls: string[];
  pollMs: number;
  limits: {
    maxMessageBytes: number;
    messagesPerSec: number;
    messageBurst: number;
    /** Open connections in all; more are refused (429, too_many_connections). */
    maxConnections: number;
    /** Open connections per client address (IPv4, or IPv6 /64). */
    connectionsPerIp: number;
    /** New connections per client address: a token bucket (sustained per minute, burst). */
    newConnectionsPerMin: number;
    newConnectionsBurst: number;
    swarmsPerConnection: number;
    offersPerAnnounce: number;
    /** Offers from one connection into one swarm at most this often (players: once an interval). */
    minOffersGapMs: number;
    /** No message and no pong for this long closes the socket. */
    idleTimeoutMs: number;
  };
  /** What the tracker tells clients; peers silent for two intervals expire. */
  announceIntervalSec: number;
  /** Take the client address from the last X-Forwarded-For entry (when it is an IP address). */
  trustProxy: boolean;
  logLevel: string;
  logFormat: LogFormat;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrackerConfig {
  const e = parseEnv(trackerEnvSchema, env);
  return {
    host: e.PEERCAST_TRACKER_HOST,
    port: e.PEERCAST_TRACKER_PORT,
    metrics: { host: e.PEERCAST_TRACKER_METRICS_HOST, port: e.PEERCAST_TRACKER_METRICS_PORT },
    originUrls: [...new Set(e.PEERCAST_ORIGIN_URL)],
    pollMs: e.PEERCAST_TRACKER_POLL_MS,
    limits: {
      maxMessageBytes: e.PEERCAST_TRACKER_MAX_MESSAGE_BYTES,
      messagesPerSec: e.PEERCAST_TRACKER_MESSAGES_PER_SEC,
      messageBurst: e.PEERCAST_TRACKER_MESSAGE_BURST,
      maxConnections: e.PEERCAST_TRACKER_MAX_CONNECTIONS,
      connectionsPerIp: e.PEERCAST_TRACKER_CONNECTIONS_PER_IP,
      newConnectionsPerMin: e.PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN,
      newConnectionsBurst: e.PEERCAST_TRACKER_NEW_CONNECTIONS_BURST,
      swarmsPerConnection: e.PEERCAST_TRACKER_SWARMS_PER_CONNECTION,
      offersPerAnnounce: e.PEERCAST_TRACKER_OFFERS_PER_ANNOUNCE,
      minOffersGapMs: e.PEERCAST_TRACKER_MIN_OFFERS_GAP_MS,
      idleTimeoutMs: e.PEERCAST_TRACKER_IDLE_TIMEOUT_MS,
    },
    announceIntervalSec: e.PEERCAST_TRACKER_ANNOUNCE_INTERVAL_SEC,
    trustProxy: e.PEERCAST_TRACKER_TRUST_PROXY,
    logLevel: e.PEERCAST_LOG_LEVEL,
    logFormat: e.PEERCAST_LOG_FORMAT,
  };
}
