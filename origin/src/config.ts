import path from "node:path";
import { z } from "zod";
import { configError, parseEnv } from "./service/env-config.js";
import { LOG_FORMATS, type LogFormat } from "./service/logger.js";
import { parseLadderSpec, type LadderRung } from "./transcode/ladder.js";
import { TRACKER_REF, type IceServer, type LatencyMode } from "./wire/index.js";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(["1", "0", "true", "false", "on", "off", "yes", "no"]).transform((v) => ["1", "true", "on", "yes"].includes(v));

// Keys are the environment variable names, so a failure names the variable to fix.
/** The service's environment variables: parsed at start, and the source of docs/configuration.md. */
export const originEnvSchema = z
  .object({
    PEERCAST_HTTP_HOST: z.string().min(1).default("0.0.0.0").meta({ description: "HTTP listen address" }),
    PEERCAST_HTTP_PORT: port.default(8080).meta({ description: "HTTP port (0 = any free port)" }),
    PEERCAST_METRICS_HOST: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .meta({ description: "listen address of Prometheus' `/metrics` (`0.0.0.0` in containers, where Prometheus scrapes over the container network)" }),
    PEERCAST_METRICS_PORT: port.default(8081).meta({ description: "port of `/metrics` (0 = any free port)" }),
    PEERCAST_RTMP_HOST: z.string().min(1).default("0.0.0.0").meta({ description: "RTMP listen address" }),
    PEERCAST_RTMP_PORT: port.default(1935).meta({ description: "RTMP port" }),
    PEERCAST_PUBLIC_URL: z.url().optional().meta({ description: "base URL printed for users", default: "`http://localhost:8080`" }),
    PEERCAST_DATA_DIR: z.string().min(1).default("./data").meta({ description: "segments and the default keys file" }),
    PEERCAST_KEYS_FILE: z.string().min(1).optional().meta({ description: "stream keys", default: "`$PEERCAST_DATA_DIR/keys.json`" }),
    PEERCAST_SEGMENT_SEC: z.coerce.number().min(1).max(10).default(2).meta({ description: "segment duration (keyframe interval of every rendition)" }),
    PEERCAST_PLAYLIST_SEGMENTS: z.coerce.number().int().min(3).max(60).default(10).meta({ description: "segments listed in a media playlist" }),
    PEERCAST_RETAIN_EXTRA_SEGMENTS: z.coerce
      .number()
      .int()
      .min(0)
      .max(120)
      .default(6)
      .meta({ description: "segments kept on disk (and hashed) after leaving the playlist" }),
    PEERCAST_LADDER: z.string().default("720p:1280x720:2800,480p:854x480:1400,360p:640x360:800").meta({ description: "renditions, `name:WxH:kbps`" }),
    PEERCAST_MAX_FPS: z.coerce.number().int().min(1).max(60).default(30).meta({ description: "output frame rate cap" }),
    PEERCAST_AUDIO_KBPS: z.coerce.number().int().min(32).max(320).default(128).meta({ description: "AAC bitrate per rendition" }),
    PEERCAST_X264_PRESET: z.enum(["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"]).default("veryfast").meta({ description: "x264 preset" }),
    PEERCAST_PASSTHROUGH: bool.default(false).meta({
      description:
        "also offer the source's own video, copied (`-c copy`), on top of the ladder; only when the source's keyframe interval equals the segment duration (else refused, with a log line saying why)",
    }),
    PEERCAST_GRACE_SEC: z.coerce.number().min(0).max(3600).default(30).meta({ description: "how long a dropped publisher may take to come back" }),
    PEERCAST_ENDED_RETAIN_SEC: z.coerce.number().min(0).max(3600).default(60).meta({ description: "how long an ended session stays visible" }),
    PEERCAST_FFMPEG_PATH: z.string().min(1).default("ffmpeg").meta({ description: "ffmpeg binary" }),
    PEERCAST_FFMPEG_STOP_TIMEOUT_MS: positiveInt.default(5000).meta({ description: "SIGINT to SIGKILL delay when stopping ffmpeg" }),
    PEERCAST_FFMPEG_MAX_RESTARTS: z.coerce
      .number()
      .int()
      .min(0)
      .max(100)
      .default(5)
      .meta({ description: "ffmpeg restarts within `PEERCAST_FFMPEG_RESTART_WINDOW_SEC` before the publisher is cut (counted per publish)" }),
    PEERCAST_FFMPEG_RESTART_WINDOW_SEC: z.coerce
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .meta({ description: "window of the restart budget: restarts older than this no longer count" }),
    PEERCAST_TRANSCODE_BACKLOG_BYTES: positiveInt
      .default(16 * 1024 * 1024)
      .meta({ description: "input backlog beyond which frames are dropped to the next keyframe" }),
    PEERCAST_RTMP_MAX_CONNECTIONS: positiveInt.default(256).meta({ description: "open RTMP connections at most" }),
    PEERCAST_RTMP_PUBLISH_TIMEOUT_MS: positiveInt
      .default(10_000)
      .meta({ description: "a connection must publish within this time (and send at most 64 KiB before), and a publisher never go silent longer" }),
    PEERCAST_RTMP_HANDSHAKE_TIMEOUT_MS: positiveInt.default(3000).meta({ description: "a connection must complete the RTMP handshake within this time" }),
    PEERCAST_RTMP_CONNECTIONS_PER_IP: positiveInt.default(8).meta({
      description: "open RTMP connections per address (IPv6: per /64) at most, so that one address cannot take all of the above; a publisher needs 1-2",
    }),
    PEERCAST_START_TIMEOUT_MS: positiveInt.default(10_000).meta({ description: "time for a new publisher to send an H.264 keyframe" }),
    PEERCAST_TEST_SOURCE: bool.default(false).meta({ description: "built-in test stream", default: "`0` (`1` under `npm start`)" }),
    PEERCAST_TEST_SOURCE_STREAM: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/)
      .default("main")
      .meta({ description: "stream the test source publishes" }),
    PEERCAST_TEST_SOURCE_SIZE: z
      .string()
      .regex(/^\d{2,4}x\d{2,4}$/)
      .default("1280x720")
      .meta({ description: "test picture size" }),
    PEERCAST_TRACKER_URLS: z.string().optional().meta({
      description:
        "the trackers players use, comma-separated: `ws://`/`wss://` URLs, paths on the host the page was loaded from (`/tracker/{stream}`), or a port on its host name (`:8000/`); relative ones become `wss` on https pages; `{stream}` is replaced by the stream's name (so an edge can route to the stream's tracker shard)",
      default: "port 8000 of the host in `PEERCAST_PUBLIC_URL`, or else of the host each page was loaded from (`:8000/`)",
    }),
    PEERCAST_ICE_SERVERS: z.string().default("[]").meta({
      description:
        'ICE servers for players, JSON as `RTCPeerConnection` takes them, e.g. `[{"urls":"stun:stun.example.org:3478"}]`; no `username`/`credential` (every page gets this list: refused at start). `turn:` URLs need `PEERCAST_TURN_SECRET`',
    }),
    PEERCAST_TURN_SECRET: z.string().min(16, "at least 16 characters").optional().meta({
      description:
        "coturn's `static-auth-secret` (`use-auth-secret`): each viewer gets TURN credentials of its own from `/api/turn-credentials`, instead of a password every page could read and use as an open relay",
    }),
    PEERCAST_TURN_TTL_SEC: z.coerce
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(12 * 3600)
      .meta({ description: "how long minted TURN credentials work; a playback keeps the ones it started with, so this should outlast a viewing session" }),
    PEERCAST_LATENCY_MODE: z
      .enum(["balanced", "low"])
      .default("balanced")
      .meta({ description: "default latency mode (`balanced` or `low`); per stream in the keys file" }),
    PEERCAST_PLAYER_DIR: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "the built player files (`npm run build` makes them)", default: "`player/dist/www`" }),
    PEERCAST_STATS_INTERVAL_MS: z.coerce.number().int().min(1000).max(60_000).default(5000).meta({ description: "how often players send their stats beacon" }),
    // Per client address, sized for a campus or carrier-grade NAT: 2000 viewers behind one address
    // at one beacon per 5 s (400 a second), all of one interval's beacons at once if they come in phase.
    PEERCAST_STATS_RATE_PER_MIN: z.coerce.number().int().min(1).max(100_000).default(24_000).meta({
      description:
        "stats beacons per minute per client address: 2000 players behind one NAT at one beacon per 5 s (raise it with a shorter interval); IPv6 clients are counted per /64",
    }),
    PEERCAST_STATS_BURST: z.coerce.number().int().min(1).max(10_000).default(2000).meta({
      description: "stats beacons a client address may send at once above that rate: one interval's beacons of those 2000 players, should they come in phase",
    }),
    PEERCAST_STATS_MAX_VIEWERS: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(100_000)
      .meta({ description: "players whose counters the origin tracks; a new one beyond is refused (503) unless the longest-quiet one no longer counts" }),
    // Live viewers one address may have counted: the NAT above, and no more for a forger of viewerIds.
    PEERCAST_STATS_VIEWERS_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000_000).default(2000).meta({
      description: "live viewers counted per client address (IPv6: per /64), the NAT above; a new one beyond is refused (429) until some leave or go quiet",
    }),
    PEERCAST_TRUST_PROXY: bool.default(false).meta({
      description:
        "take the client address from the last `X-Forwarded-For` entry (behind one reverse proxy); otherwise the socket's address, and the header is ignored",
    }),
    PEERCAST_OPERATOR_TOKEN: z
      .string()
      .min(16, "at least 16 characters")
      .optional()
      .meta({ description: "the dashboard's login token (16+ characters)", default: "generated into `$PEERCAST_DATA_DIR/operator-token`" }),
    PEERCAST_OPERATOR_SESSION_TTL_SEC: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(12 * 3600)
      .meta({ description: "an operator session ends this long after login" }),
    PEERCAST_TRACKER_METRICS_URL: z.url().optional().meta({
      description: "the tracker's `/metrics` on its metrics listener, for the dashboard's peer counts",
      default: "none (`npm start`: the tracker it runs, `http://127.0.0.1:8001/metrics`)",
    }),
    PEERCAST_DASHBOARD_DIR: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "the built dashboard page (`npm run build` makes it)", default: "`dashboard/dist/www`" }),
    PEERCAST_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info").meta({ description: "pino level" }),
    PEERCAST_LOG_FORMAT: z.enum(LOG_FORMATS).default("auto").meta({
      description:
        "`auto`: readable lines on a terminal, JSON lines otherwise (a pipe, a container); `json` or `pretty` always (`npm start` shows its services' lines readable on a terminal unless this is `json`)",
    }),
  })
  .refine((e) => e.PEERCAST_METRICS_PORT === 0 || e.PEERCAST_METRICS_PORT !== e.PEERCAST_HTTP_PORT, {
    path: ["PEERCAST_METRICS_PORT"],
    message: "must differ from PEERCAST_HTTP_PORT (metrics have a listener of their own)",
  });

export interface OriginConfig {
  /** trustProxy: the client address is the rightmost X-Forwarded-For entry (behind one proxy). */
  http: { host: string; port: number; publicUrl: string; trustProxy: boolean };
  /** Prometheus' /metrics, on a listener of its own (not the viewers' port). */
  metrics: { host: string; port: number };
  rtmp: {
    host: string;
    port: number;
    maxConnections: number;
    /** Per IPv4 address or IPv6 /64, so that no one address can take all of maxConnections. */
    maxConnectionsPerAddress: number;
    handshakeTimeoutMs: number;
    publishTimeoutMs: number;
  };
  dataDir: string;
  keysFile: string;
  hls: { segmentSec: number; playlistSegments: number; retainExtraSegments: number };
  transcode: {
    ladder: LadderRung[];
    maxFps: number;
    audioKbps: number;
    preset: string;
    passthrough: boolean;
    ffmpegPath: string;
    stopTimeoutMs: number;
    /** At most maxRestarts ffmpeg restarts within any restartWindowSec (older ones age out). */
    maxRestarts: number;
    restartWindowSec: number;
    backlogBytes: number;
    startTimeoutMs: number;
  };
  session: { graceSec: number; endedRetainSec: number };
  testSource: { enabled: boolean; stream: string; width: number; height: number };
  player: {
    /** As players get them: absolute, or resolved by each page (see resolveTracker in the wire). */
    trackers: string[];
    /** STUN servers: the same for everyone, so cacheable. */
    iceServers: IceServer[];
    /** TURN, when configured: credentials minted per viewer (coturn's use-auth-secret). */
    turn: TurnConfig | undefined;
    latency: LatencyMode;
    /** Built player files (player/dist/www); undefined: found next to this package. */
    dir: string | undefined;
    statsIntervalMs: number;
  };
  /**
   * POST /api/stats: beacons per client address (token bucket), viewers tracked at most, live
   * viewers counted per client address (IPv6 by /64).
   */
  stats: { ratePerMin: number; burst: number; maxViewers: number; viewersPerAddress: number };
  operator: {
    /** Undefined: generated once into the data dir (data/operator-token). */
    token: string | undefined;
    sessionTtlSec: number;
    trackerMetricsUrl: string | undefined;
    /** Built dashboard files (dashboard/dist/www); undefined: found next to this package. */
    dashboardDir: string | undefined;
  };
  logLevel: string;
  logFormat: LogFormat;
}

export interface TurnConfig {
  urls: string[];
  /** coturn's static-auth-secret. */
  secret: string;
  ttlSec: number;
}

const IceServersSchema = z.array(
  z.object({
    urls: z.union([z.string().regex(/^(stun|turns?):/), z.array(z.string().regex(/^(stun|turns?):/)).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
  }),
);

/** STUN servers for everyone, and TURN URLs whose credentials are minted per viewer. */
function parseIceServers(raw: string, turnSecret: string | undefined, turnTtlSec: number): { iceServers: IceServer[]; turn: TurnConfig | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw configError(['PEERCAST_ICE_SERVERS: not JSON (expected e.g. [{"urls":"stun:stun.example.org:3478"}])']);
  }
  const parsed = IceServersSchema.safeParse(json);
  if (!parsed.success) throw configError(parsed.error.issues.map((i) => `PEERCAST_ICE_SERVERS.${i.path.join(".")}: ${i.message}`));
  // Every page gets these, and edges cache them: a static TURN password would make the
  // operator's TURN server an open relay for anyone who reads the API.
  if (parsed.data.some((s) => s.username !== undefined || s.credential !== undefined)) {
    throw configError([
      "PEERCAST_ICE_SERVERS: no username/credential here (every viewer would get them); for TURN set PEERCAST_TURN_SECRET (coturn's static-auth-secret) and give the turn: URLs without credentials",
    ]);
  }
  const urls = parsed.data.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  const turnUrls = urls.filter((u) => /^turns?:/.test(u));
  if (turnUrls.length > 0 && turnSecret === undefined)
    throw configError(["PEERCAST_ICE_SERVERS: turn: URLs need PEERCAST_TURN_SECRET (coturn's static-auth-secret): credentials are minted per viewer"]);
  if (turnUrls.length === 0 && turnSecret !== undefined) throw configError(["PEERCAST_TURN_SECRET: set, but PEERCAST_ICE_SERVERS names no turn: URL"]);
  const stun = urls.filter((u) => !/^turns?:/.test(u));
  return {
    iceServers: stun.length > 0 ? [{ urls: stun }] : [],
    turn: turnUrls.length > 0 ? { urls: turnUrls, secret: turnSecret!, ttlSec: turnTtlSec } : undefined,
  };
}

/** The tracker `npm start` runs: port 8000 of the public host, or of each page's host. */
function defaultTracker(publicUrl: string | undefined): string {
  if (publicUrl === undefined) return ":8000/";
  const u = new URL(publicUrl);
  return `${u.protocol === "https:" ? "wss" : "ws"}://${u.hostname}:8000/`;
}

/** The operator's trackers, absolute or relative to each page (TRACKER_REF in the wire). */
function parseTrackers(raw: string | undefined, publicUrl: string | undefined): string[] {
  if (raw === undefined) return [defaultTracker(publicUrl)];
  const urls = raw
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = urls.filter((t) => !TRACKER_REF.test(t));
  if (urls.length === 0 || bad.length > 0) {
    throw configError([
      `PEERCAST_TRACKER_URLS: expected ws:// or wss:// URLs, paths on the page's host (/tracker/{stream}) or a port on it (:8000/), comma-separated`,
    ]);
  }
  return urls;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): OriginConfig {
  const e = parseEnv(originEnvSchema, env);
  let ladder: LadderRung[];
  try {
    ladder = parseLadderSpec(e.PEERCAST_LADDER);
  } catch (err) {
    throw configError([`PEERCAST_LADDER: ${(err as Error).message}`]);
  }
  const dataDir = path.resolve(e.PEERCAST_DATA_DIR);
  const [w, h] = e.PEERCAST_TEST_SOURCE_SIZE.split("x").map(Number) as [number, number];
  const shownHost = e.PEERCAST_HTTP_HOST === "0.0.0.0" || e.PEERCAST_HTTP_HOST === "::" ? "localhost" : e.PEERCAST_HTTP_HOST;
  const ice = parseIceServers(e.PEERCAST_ICE_SERVERS, e.PEERCAST_TURN_SECRET, e.PEERCAST_TURN_TTL_SEC);
  const publicUrl = (e.PEERCAST_PUBLIC_URL ?? `http://${shownHost}:${e.PEERCAST_HTTP_PORT}`).replace(/\/$/, "");
  return {
    http: {
      host: e.PEERCAST_HTTP_HOST,
      port: e.PEERCAST_HTTP_PORT,
      publicUrl,
      trustProxy: e.PEERCAST_TRUST_PROXY,
    },
    metrics: { host: e.PEERCAST_METRICS_HOST, port: e.PEERCAST_METRICS_PORT },
    rtmp: {
      host: e.PEERCAST_RTMP_HOST,
      port: e.PEERCAST_RTMP_PORT,
      maxConnections: e.PEERCAST_RTMP_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.PEERCAST_RTMP_CONNECTIONS_PER_IP,
      handshakeTimeoutMs: e.PEERCAST_RTMP_HANDSHAKE_TIMEOUT_MS,
      publishTimeoutMs: e.PEERCAST_RTMP_PUBLISH_TIMEOUT_MS,
    },
    dataDir,
    keysFile: path.resolve(e.PEERCAST_KEYS_FILE ?? path.join(dataDir, "keys.json")),
    hls: {
      segmentSec: e.PEERCAST_SEGMENT_SEC,
      playlistSegments: e.PEERCAST_PLAYLIST_SEGMENTS,
      retainExtraSegments: e.PEERCAST_RETAIN_EXTRA_SEGMENTS,
    },
    transcode: {
      ladder,
      maxFps: e.PEERCAST_MAX_FPS,
      audioKbps: e.PEERCAST_AUDIO_KBPS,
      preset: e.PEERCAST_X264_PRESET,
      passthrough: e.PEERCAST_PASSTHROUGH,
      ffmpegPath: e.PEERCAST_FFMPEG_PATH,
      stopTimeoutMs: e.PEERCAST_FFMPEG_STOP_TIMEOUT_MS,
      maxRestarts: e.PEERCAST_FFMPEG_MAX_RESTARTS,
      restartWindowSec: e.PEERCAST_FFMPEG_RESTART_WINDOW_SEC,
      backlogBytes: e.PEERCAST_TRANSCODE_BACKLOG_BYTES,
      startTimeoutMs: e.PEERCAST_START_TIMEOUT_MS,
    },
    session: { graceSec: e.PEERCAST_GRACE_SEC, endedRetainSec: e.PEERCAST_ENDED_RETAIN_SEC },
    testSource: { enabled: e.PEERCAST_TEST_SOURCE, stream: e.PEERCAST_TEST_SOURCE_STREAM, width: w, height: h },
    player: {
      trackers: parseTrackers(e.PEERCAST_TRACKER_URLS, e.PEERCAST_PUBLIC_URL),
      iceServers: ice.iceServers,
      turn: ice.turn,
      latency: e.PEERCAST_LATENCY_MODE,
      dir: e.PEERCAST_PLAYER_DIR && path.resolve(e.PEERCAST_PLAYER_DIR),
      statsIntervalMs: e.PEERCAST_STATS_INTERVAL_MS,
    },
    stats: {
      ratePerMin: e.PEERCAST_STATS_RATE_PER_MIN,
      burst: e.PEERCAST_STATS_BURST,
      maxViewers: e.PEERCAST_STATS_MAX_VIEWERS,
      viewersPerAddress: e.PEERCAST_STATS_VIEWERS_PER_ADDRESS,
    },
    operator: {
      token: e.PEERCAST_OPERATOR_TOKEN,
      sessionTtlSec: e.PEERCAST_OPERATOR_SESSION_TTL_SEC,
      trackerMetricsUrl: e.PEERCAST_TRACKER_METRICS_URL,
      dashboardDir: e.PEERCAST_DASHBOARD_DIR && path.resolve(e.PEERCAST_DASHBOARD_DIR),
    },
    logLevel: e.PEERCAST_LOG_LEVEL,
    logFormat: e.PEERCAST_LOG_FORMAT,
  };
}
