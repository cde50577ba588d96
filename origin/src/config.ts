import path from "node:path";
import { z } from "zod";
import { configError, parseEnv } from "./service/env-config.js";
import { parseLadderSpec, type LadderRung } from "./transcode/ladder.js";
import type { IceServer, LatencyMode } from "./wire/index.js";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .enum(["1", "0", "true", "false", "on", "off", "yes", "no"])
  .transform((v) => ["1", "true", "on", "yes"].includes(v));

// Keys are the environment variable names, so a failure names the variable to fix.
const EnvSchema = z.object({
  PEERCAST_HTTP_HOST: z.string().min(1).default("0.0.0.0"),
  PEERCAST_HTTP_PORT: port.default(8080),
  PEERCAST_RTMP_HOST: z.string().min(1).default("0.0.0.0"),
  PEERCAST_RTMP_PORT: port.default(1935),
  PEERCAST_PUBLIC_URL: z.url().optional(),
  PEERCAST_DATA_DIR: z.string().min(1).default("./data"),
  PEERCAST_KEYS_FILE: z.string().min(1).optional(),
  PEERCAST_SEGMENT_SEC: z.coerce.number().min(1).max(10).default(2),
  PEERCAST_PLAYLIST_SEGMENTS: z.coerce.number().int().min(3).max(60).default(10),
  PEERCAST_RETAIN_EXTRA_SEGMENTS: z.coerce.number().int().min(0).max(120).default(6),
  PEERCAST_LADDER: z.string().default("720p:1280x720:2800,480p:854x480:1400,360p:640x360:800"),
  PEERCAST_MAX_FPS: z.coerce.number().int().min(1).max(60).default(30),
  PEERCAST_AUDIO_KBPS: z.coerce.number().int().min(32).max(320).default(128),
  PEERCAST_X264_PRESET: z
    .enum(["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"])
    .default("veryfast"),
  PEERCAST_PASSTHROUGH: bool.default(false),
  PEERCAST_GRACE_SEC: z.coerce.number().min(0).max(3600).default(30),
  PEERCAST_ENDED_RETAIN_SEC: z.coerce.number().min(0).max(3600).default(60),
  PEERCAST_FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  PEERCAST_FFMPEG_STOP_TIMEOUT_MS: positiveInt.default(5000),
  PEERCAST_FFMPEG_MAX_RESTARTS: z.coerce.number().int().min(0).max(100).default(5),
  PEERCAST_TRANSCODE_BACKLOG_BYTES: positiveInt.default(16 * 1024 * 1024),
  PEERCAST_RTMP_MAX_CONNECTIONS: positiveInt.default(256),
  PEERCAST_RTMP_PUBLISH_TIMEOUT_MS: positiveInt.default(10_000),
  PEERCAST_START_TIMEOUT_MS: positiveInt.default(10_000),
  PEERCAST_TEST_SOURCE: bool.default(false),
  PEERCAST_TEST_SOURCE_STREAM: z.string().regex(/^[a-z0-9_-]{1,64}$/).default("main"),
  PEERCAST_TEST_SOURCE_SIZE: z.string().regex(/^\d{2,4}x\d{2,4}$/).default("1280x720"),
  PEERCAST_TRACKER_URLS: z.string().optional(),
  PEERCAST_ICE_SERVERS: z.string().default("[]"),
  PEERCAST_LATENCY_MODE: z.enum(["balanced", "low"]).default("balanced"),
  PEERCAST_PLAYER_DIR: z.string().min(1).optional(),
  PEERCAST_STATS_INTERVAL_MS: z.coerce.number().int().min(1000).max(60_000).default(5000),
  PEERCAST_STATS_RATE_PER_MIN: z.coerce.number().int().min(1).max(100_000).default(600),
  PEERCAST_STATS_BURST: z.coerce.number().int().min(1).max(10_000).default(30),
  PEERCAST_STATS_MAX_VIEWERS: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  PEERCAST_TRUST_PROXY: bool.default(false),
  PEERCAST_OPERATOR_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  PEERCAST_TRACKER_METRICS_URL: z.url().optional(),
  PEERCAST_DASHBOARD_DIR: z.string().min(1).optional(),
  PEERCAST_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export interface OriginConfig {
  /** trustProxy: the client address is the rightmost X-Forwarded-For entry (behind one proxy). */
  http: { host: string; port: number; publicUrl: string; trustProxy: boolean };
  rtmp: { host: string; port: number; maxConnections: number; publishTimeoutMs: number };
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
    maxRestarts: number;
    backlogBytes: number;
    startTimeoutMs: number;
  };
  session: { graceSec: number; endedRetainSec: number };
  testSource: { enabled: boolean; stream: string; width: number; height: number };
  player: {
    /** Undefined: the tracker `npm start` runs, port 8000 on the host each page was loaded from. */
    trackers: string[] | undefined;
    iceServers: IceServer[];
    latency: LatencyMode;
    /** Built player files (player/dist/www); undefined: found next to this package. */
    dir: string | undefined;
    statsIntervalMs: number;
  };
  /** POST /api/stats: beacons per client address (token bucket), viewers tracked at most. */
  stats: { ratePerMin: number; burst: number; maxViewers: number };
  operator: {
    /** Undefined: the dashboard is open on a loopback address and off on any other. */
    token: string | undefined;
    trackerMetricsUrl: string | undefined;
    /** Built dashboard files (dashboard/dist/www); undefined: found next to this package. */
    dashboardDir: string | undefined;
  };
  logLevel: string;
}

const IceServersSchema = z.array(
  z.object({
    urls: z.union([z.string().regex(/^(stun|turns?):/), z.array(z.string().regex(/^(stun|turns?):/)).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
  }),
);

function parseIceServers(raw: string): IceServer[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw configError(["PEERCAST_ICE_SERVERS: not JSON (expected e.g. [{\"urls\":\"stun:stun.example.org:3478\"}])"]);
  }
  const parsed = IceServersSchema.safeParse(json);
  if (!parsed.success) throw configError(parsed.error.issues.map((i) => `PEERCAST_ICE_SERVERS.${i.path.join(".")}: ${i.message}`));
  return parsed.data;
}

/** The default tracker for pages served from `pageUrl`: the one `npm start` runs, port 8000. */
export function defaultTracker(pageUrl: string): string {
  const u = new URL(pageUrl);
  return `${u.protocol === "https:" ? "wss" : "ws"}://${u.hostname}:8000/`;
}

/**
 * A configured tracker as a player of `stream` on `pageUrl` gets it: `{stream}` replaced (so a
 * hash router in front of tracker shards can see the stream in the path), and a path-only entry
 * (`/tracker/{stream}`) on the page's own host, wss under https (an edge proxies it).
 */
export function trackerFor(configured: string, pageUrl: string, stream: string): string {
  const url = configured.replaceAll("{stream}", stream);
  if (!url.startsWith("/")) return url;
  const page = new URL(pageUrl);
  return `${page.protocol === "https:" ? "wss" : "ws"}://${page.host}${url}`;
}

/** The operator's trackers; by default port 8000 of the public host, or of each page's host. */
function parseTrackers(raw: string | undefined, publicUrl: string | undefined): string[] | undefined {
  if (raw === undefined) return publicUrl === undefined ? undefined : [defaultTracker(publicUrl)];
  const urls = raw.split(",").map((t) => t.trim()).filter(Boolean);
  const bad = urls.filter((t) => !/^(wss?:\/\/[^\s/]|\/)[^\s]*$/.test(t));
  if (urls.length === 0 || bad.length > 0) {
    throw configError([`PEERCAST_TRACKER_URLS: expected ws:// or wss:// URLs or paths on the page's host (/tracker/{stream}), comma-separated`]);
  }
  return urls;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): OriginConfig {
  const e = parseEnv(EnvSchema, env);
  let ladder: LadderRung[];
  try {
    ladder = parseLadderSpec(e.PEERCAST_LADDER);
  } catch (err) {
    throw configError([`PEERCAST_LADDER: ${(err as Error).message}`]);
  }
  const dataDir = path.resolve(e.PEERCAST_DATA_DIR);
  const [w, h] = e.PEERCAST_TEST_SOURCE_SIZE.split("x").map(Number) as [number, number];
  const shownHost = e.PEERCAST_HTTP_HOST === "0.0.0.0" || e.PEERCAST_HTTP_HOST === "::" ? "localhost" : e.PEERCAST_HTTP_HOST;
  const publicUrl = (e.PEERCAST_PUBLIC_URL ?? `http://${shownHost}:${e.PEERCAST_HTTP_PORT}`).replace(/\/$/, "");
  return {
    http: {
      host: e.PEERCAST_HTTP_HOST,
      port: e.PEERCAST_HTTP_PORT,
      publicUrl,
      trustProxy: e.PEERCAST_TRUST_PROXY,
    },
    rtmp: {
      host: e.PEERCAST_RTMP_HOST,
      port: e.PEERCAST_RTMP_PORT,
      maxConnections: e.PEERCAST_RTMP_MAX_CONNECTIONS,
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
      backlogBytes: e.PEERCAST_TRANSCODE_BACKLOG_BYTES,
      startTimeoutMs: e.PEERCAST_START_TIMEOUT_MS,
    },
    session: { graceSec: e.PEERCAST_GRACE_SEC, endedRetainSec: e.PEERCAST_ENDED_RETAIN_SEC },
    testSource: { enabled: e.PEERCAST_TEST_SOURCE, stream: e.PEERCAST_TEST_SOURCE_STREAM, width: w, height: h },
    player: {
      trackers: parseTrackers(e.PEERCAST_TRACKER_URLS, e.PEERCAST_PUBLIC_URL),
      iceServers: parseIceServers(e.PEERCAST_ICE_SERVERS),
      latency: e.PEERCAST_LATENCY_MODE,
      dir: e.PEERCAST_PLAYER_DIR && path.resolve(e.PEERCAST_PLAYER_DIR),
      statsIntervalMs: e.PEERCAST_STATS_INTERVAL_MS,
    },
    stats: { ratePerMin: e.PEERCAST_STATS_RATE_PER_MIN, burst: e.PEERCAST_STATS_BURST, maxViewers: e.PEERCAST_STATS_MAX_VIEWERS },
    operator: {
      token: e.PEERCAST_OPERATOR_TOKEN,
      trackerMetricsUrl: e.PEERCAST_TRACKER_METRICS_URL,
      dashboardDir: e.PEERCAST_DASHBOARD_DIR && path.resolve(e.PEERCAST_DASHBOARD_DIR),
    },
    logLevel: e.PEERCAST_LOG_LEVEL,
  };
}
