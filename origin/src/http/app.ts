import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";
import type { OriginConfig } from "../config.js";
import type { KeyStore } from "../keys/key-store.js";
import type { Metrics } from "../metrics.js";
import type { SessionManager } from "../session/session-manager.js";
import type { ViewerStats } from "../stats/viewer-stats.js";
import type { StreamListResponse } from "../wire/index.js";
import { addOperatorRoutes, type OperatorDeps } from "../operator/routes.js";
import { parseByteRange } from "./byte-range.js";
import { addPlayerRoutes } from "./player-routes.js";
import { statsRoute } from "./stats-route.js";

const M3U8 = "application/vnd.apple.mpegurl";
// Playlists change every segment: at most a second in any cache (edges included).
const PLAYLIST_CACHE = "public, max-age=1";
// Segment URLs are unique per session, so their bytes never change.
const SEGMENT_CACHE = "public, max-age=31536000, immutable";

const NAME = "[a-z0-9_-]{1,64}";
const SESSION = "[A-Za-z0-9]{1,32}";

export interface AppDeps {
  sessions: SessionManager;
  metrics: Metrics;
  log: Logger;
  viewerStats: ViewerStats;
  config: OriginConfig;
  keys: KeyStore;
  operator: Omit<OperatorDeps, "sessions" | "keys" | "streams" | "trustProxy" | "log" | "publicUrl">;
  /** Client addresses from the rightmost X-Forwarded-For entry (behind one reverse proxy). */
  trustProxy: boolean;
}

/**
 * A blocking reload's media sequence number (RFC 8216bis 6.2.5.2), or what is wrong with it.
 * There are no partial segments: a part is ready when its whole segment is.
 */
export function deliveryDirective(msn: string | undefined, part: string | undefined): number | string | undefined {
  if (msn === undefined) return part === undefined ? undefined : "_HLS_part needs _HLS_msn";
  if (!/^[0-9]{1,12}$/.test(msn)) return "_HLS_msn must be a segment number";
  if (part !== undefined && !/^[0-9]{1,6}$/.test(part)) return "_HLS_part must be a part number";
  return Number(msn);
}

export function createApp({ sessions, metrics, log, viewerStats, trustProxy, config, keys, operator }: AppDeps): Hono {
  const app = new Hono();
  // Only what players on other sites need: the stream, its state, their beacons, the player's
  // files. Never the operator's side, whose answers a foreign page must not read.
  const viewerCors = cors({ origin: "*", allowMethods: ["GET", "HEAD", "POST", "OPTIONS"], maxAge: 600 });
  for (const path of ["/hls/*", "/api/streams", "/api/streams/*", "/api/stats", "/api/turn-credentials", "/player/*", "/embed.js"]) app.use(path, viewerCors);

  const text = (c: Context, body: string, type: string, cache: string, kind: string) => {
    metrics.httpBytes.inc({ kind, stream: c.req.param("stream") ?? "" }, Buffer.byteLength(body));
    return c.body(body, 200, { "Content-Type": type, "Cache-Control": cache });
  };

  app.get("/healthz", (c) => c.json({ ok: true }));

  // Every configured or live stream, as a viewer may see it.
  const streamList = () => sessions.list((stream) => viewerStats.viewersOf(stream));

  app.get("/api/streams", (c) => {
    const body: StreamListResponse = { streams: streamList() };
    c.header("Cache-Control", "no-cache");
    return c.json(body);
  });

  app.route("/", statsRoute({ viewerStats, metrics, trustProxy }));

  app.get(`/hls/:stream{${NAME}}/master.m3u8`, (c) => {
    const s = sessions.session(c.req.param("stream"));
    if (!s) return c.text("stream is not live\n", 404);
    return text(c, s.master, M3U8, PLAYLIST_CACHE, "playlist");
  });

  const track = (c: Context) => {
    const s = sessions.session(c.req.param("stream")!);
    if (!s || s.id !== c.req.param("session")) return undefined;
    const t = s.tracks.get(c.req.param("rendition")!);
    return t && { session: s, track: t };
  };
  const base = `/hls/:stream{${NAME}}/:session{${SESSION}}/:rendition{${NAME}}`;

  app.get(`${base}/index.m3u8`, async (c) => {
    const found = track(c);
    if (!found) return c.text("no such playlist\n", 404);
    const wanted = deliveryDirective(c.req.query("_HLS_msn"), c.req.query("_HLS_part"));
    if (typeof wanted === "string") return c.text(`${wanted}\n`, 400);
    if (wanted !== undefined) {
      const last = found.track.lastSeq ?? -1;
      if (wanted > last + 2) return c.text(`_HLS_msn ${wanted} is more than two segments after the playlist's last (${last})\n`, 400);
      // Three target durations at most (RFC 8216bis). Then the playlist as it is rather than the
      // RFC's 503: hls.js counts a 503 against its retry budget, and a publisher reconnecting
      // would turn it fatal; an unchanged playlist says the same and it just asks again.
      await found.track.until(wanted, 3000 * found.track.targetDurationSec);
    }
    return text(c, found.track.render(), M3U8, PLAYLIST_CACHE, "playlist");
  });

  app.get(`${base}/hashes.json`, (c) => {
    const found = track(c);
    if (!found) return c.text("no such rendition\n", 404);
    // Never older than a playlist a player just got: no caching at all.
    return text(c, JSON.stringify(found.track.hashes()), "application/json", "no-cache", "hashes");
  });

  app.get(`${base}/:file{[0-9]{1,12}\\.ts}`, (c) => {
    const found = track(c);
    const seq = Number(c.req.param("file").slice(0, -3));
    const segment = found?.track.get(seq);
    if (!found || !segment) return c.text("no such segment\n", 404);
    const bytes = segment.data;
    const headers = { "Content-Type": "video/mp2t", "Cache-Control": SEGMENT_CACHE, "Accept-Ranges": "bytes" };
    const range = parseByteRange(c.req.header("range"), bytes.length);
    if (range === "unsatisfiable") return c.body(null, 416, { ...headers, "Content-Range": `bytes */${bytes.length}` });
    const { start, end } = range ?? { start: 0, end: bytes.length - 1 };
    const served = end - start + 1;
    // A HEAD sends no bytes: not a copy.
    if (c.req.method !== "HEAD") {
      // Copies count bytes: the rest of a segment a peer's transfer left off is part of a copy.
      segment.fetches += served / bytes.length;
      const labels = { stream: found.session.stream, rendition: c.req.param("rendition") };
      metrics.segmentFetches.inc(labels);
      metrics.segmentCopiesServed.inc(labels, served / bytes.length);
      metrics.httpBytes.inc({ kind: "segment", stream: found.session.stream }, served);
    }
    // A view of the one in-memory copy: exactly the bytes that were hashed, never copied.
    const body = new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset + start, served);
    // Set here so that a HEAD, whose body hono drops, still tells the size.
    const sized = { ...headers, "Content-Length": String(served) };
    return range ? c.body(body, 206, { ...sized, "Content-Range": `bytes ${start}-${end}/${bytes.length}` }) : c.body(body, 200, sized);
  });

  addPlayerRoutes(app, { config, keys, log, streamInfo: (name) => streamList().find((s) => s.name === name) });
  addOperatorRoutes(app, {
    ...operator,
    publicUrl: config.http.publicUrl,
    sessions,
    keys,
    streams: streamList,
    trustProxy,
    log: log.child({ component: "operator" }),
  });

  app.notFound((c) => c.text("not found\n", 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse(); // deliberate refusals (e.g. CSRF: 403)
    log.error({ err: err.message, path: c.req.path }, "request failed");
    return c.text("internal error\n", 500);
  });
  return app;
}
