// The viewer-facing pages and the player's API: /watch/{stream}, /embed/{stream}, /embed.js,
// the bundled player files (built by the player package) and /api/streams/{stream}.
import { fileURLToPath } from "node:url";
import type { Context, Hono } from "hono";
import { compress } from "hono/compress";
import type { Logger } from "pino";
import { defaultTracker, trackerFor, type OriginConfig } from "../config.js";
import type { KeyStore } from "../keys/key-store.js";
import type { StreamDetailResponse, StreamInfo } from "../wire/index.js";
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
  // Trackers as the page's player must reach them (paths resolved on the page's host, `{stream}`
  // filled in); without configured ones, port 8000 of the page's host. The Host header only
  // affects its sender; wss when a trusted TLS-terminating proxy says the page came over https.
  const trackers = (c: Context, stream: string) => {
    const url = new URL(c.req.url);
    if (config.http.trustProxy && c.req.header("x-forwarded-proto") === "https") url.protocol = "https:";
    return config.player.trackers?.map((t) => trackerFor(t, url.href, stream)) ?? [defaultTracker(url.href)];
  };
  // hls.js feeds MSE from blob: URLs and transmuxes in a blob: worker; peers are WebRTC (no CSP).
  // Only the embed page may be framed by other sites (the watch page's switches could be clickjacked).
  const csp = (c: Context, framedBy: string) =>
    `default-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; ` +
    `connect-src 'self' ${trackers(c, c.req.param("stream") ?? "").map((t) => new URL(t).origin).join(" ")}; base-uri 'none'; form-action 'none'; frame-ancestors ${framedBy}`;

  const file = (c: Context, name: string, status: 200 | 404 = 200) => {
    const body = files.get(name);
    if (!body) return c.text("the player is not built on this server\n", 503);
    const html = name.endsWith(".html");
    return c.body(body, status, {
      "Content-Type": contentType(name),
      "Cache-Control": html ? "no-cache" : "public, max-age=300",
      "X-Content-Type-Options": "nosniff",
      ...(html ? { "Content-Security-Policy": csp(c, name === "embed.html" ? "*" : "'self'"), "Referrer-Policy": "strict-origin-when-cross-origin" } : {}),
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
        trackers: trackers(c, name),
        iceServers: config.player.iceServers,
        p2p: s.p2p ?? true,
        latency: s.latency ?? config.player.latency,
        uploadKbps: s.uploadKbps ?? 0,
        statsIntervalMs: config.player.statsIntervalMs,
      },
    };
    c.header("Cache-Control", "no-cache");
    return c.json(body);
  });
}
