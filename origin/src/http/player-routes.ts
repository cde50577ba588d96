// The viewer-facing pages and the player's API: /watch/{stream}, /embed/{stream}, /embed.js,
// the bundled player files (built by the player package) and /api/streams/{stream}.
import { fileURLToPath } from "node:url";
import type { Context, Hono } from "hono";
import { compress } from "hono/compress";
import type { Logger } from "pino";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { OriginConfig } from "../config.js";
import { mintTurnCredentials } from "../ice/turn-credentials.js";
import type { KeyStore } from "../keys/key-store.js";
import { ClientLimiter, clientAddress, rateKey } from "../stats/client-limiter.js";
import type { StreamDetailResponse, StreamInfo, TurnCredentialsResponse } from "../wire/index.js";
import { contentType, loadStaticFiles } from "./static-files.js";

// origin/dist/src/http -> player/dist/www, where `npm run build` puts the bundle.
const DEFAULT_DIR = fileURLToPath(new URL("../../../../player/dist/www/", import.meta.url));
const NAME = "[a-z0-9_-]{1,64}";
export interface PlayerRoutesDeps {
  config: OriginConfig;
  keys: KeyStore;
  /** A configured or live stream's public state; undefined for an unknown name. */
  streamInfo: (stream: string) => StreamInfo | undefined;
  log: Logger;
}

export function addPlayerRoutes(app: Hono, { config, keys, streamInfo, log }: PlayerRoutesDeps): void {
  const files = loadStaticFiles(config.player.dir ?? DEFAULT_DIR, "player.js", log);
  // `{stream}` filled in (a hash router in front of tracker shards sees the stream in the path).
  // Nothing here comes from the request: edges cache the answer for every viewer, so paths and
  // ports stay relative and each page resolves them against its own URL (resolveTracker).
  const trackers = (stream: string) => config.player.trackers.map((t) => t.replaceAll("{stream}", stream));
  // 'self' covers ws(s) to the page's own host and port (CSP 3); a port of the page's host
  // cannot be named without the Host header, so any host on that port.
  // Per stream: a tracker may name the stream in its host (a shard per stream).
  const connectSources = (stream: string) =>
    [
      ...new Set([
        "'self'",
        ...trackers(stream).map((t) => {
          if (t.startsWith("/")) return "'self'";
          const port = t.slice(0, t.indexOf("/"));
          if (t.startsWith(":")) return `ws://*${port} wss://*${port}`;
          return new URL(t).origin;
        }),
      ]),
    ].join(" ");
  // hls.js feeds MSE from blob: URLs and transmuxes in a blob: worker; peers are WebRTC (no CSP).
  // Only the embed page may be framed by other sites (the watch page's switches could be clickjacked).
  const csp = (stream: string, framedBy: string) =>
    `default-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; ` +
    `connect-src ${connectSources(stream)}; base-uri 'none'; form-action 'none'; frame-ancestors ${framedBy}`;

  const file = (c: Context, name: string, status: 200 | 404 = 200) => {
    const body = files.get(name);
    if (!body) return c.text("the player is not built on this server\n", 503);
    const html = name.endsWith(".html");
    return c.body(body, status, {
      "Content-Type": contentType(name),
      "Cache-Control": html ? "no-cache" : "public, max-age=300",
      "X-Content-Type-Options": "nosniff",
      ...(html
        ? {
            "Content-Security-Policy": csp(c.req.param("stream") ?? "", name === "embed.html" ? "*" : "'self'"),
            "Referrer-Policy": "strict-origin-when-cross-origin",
          }
        : {}),
    });
  };

  // The player bundle is large and compresses to a third; segments (already compressed) are not touched.
  app.use("/player/*", compress());
  app.use("/embed.js", compress());

  for (const page of ["watch", "embed"] as const) {
    app.get(`/${page}/:stream{${NAME}}`, (c) => (streamInfo(c.req.param("stream")) ? file(c, `${page}.html`) : file(c, "not-found.html", 404)));
    app.get(`/${page}/*`, (c) => file(c, "not-found.html", 404));
  }
  app.get("/embed.js", (c) => file(c, "embed.js"));
  app.get("/player/:file{[A-Za-z0-9._-]+}", (c) => {
    const name = c.req.param("file");
    return name.endsWith(".html") || !files.has(name) ? c.text("not found\n", 404) : file(c, name);
  });
  app.get("/", (c) => {
    const first = keys.streams()[0] ?? config.testSource.stream;
    return c.redirect(`/watch/${first}`, 302);
  });

  app.get(`/api/streams/:stream{${NAME}}`, (c) => {
    const name = c.req.param("stream");
    const stream = streamInfo(name);
    if (!stream) return c.json({ error: "no such stream" }, 404);
    const s = keys.streamSettings(name);
    const body: StreamDetailResponse = {
      stream,
      player: {
        title: s.title ?? name,
        trackers: trackers(name),
        iceServers: config.player.iceServers,
        ...(config.player.turn ? { turnCredentialsPath: TURN_PATH } : {}),
        p2p: s.p2p ?? true,
        latency: s.latency ?? config.player.latency,
        uploadKbps: s.uploadKbps ?? 0,
        statsIntervalMs: config.player.statsIntervalMs,
      },
    };
    c.header("Cache-Control", "no-cache");
    return c.json(body);
  });

  // One viewer session asks once (and again after a while); an address behind a NAT holds many.
  const turnAsks = new ClientLimiter({ ratePerMin: 600, burst: 100, maxClients: 100_000 });
  app.get(TURN_PATH, (c) => {
    const turn = config.player.turn;
    if (!turn) return c.json({ error: "no TURN server is configured" }, 404);
    const client = rateKey(clientAddress(getConnInfo(c).remote.address, c.req.header("x-forwarded-for"), config.http.trustProxy));
    if (!turnAsks.take(client)) return c.json({ error: "too many requests" }, 429);
    const body: TurnCredentialsResponse = { iceServers: [mintTurnCredentials(turn)], ttlSec: turn.ttlSec };
    // Each answer is the asker's own: never stored by an edge or a browser.
    return c.json(body, 200, { "Cache-Control": "no-store, private" });
  });
}

const TURN_PATH = "/api/turn-credentials";
