// The operator's side: /dashboard (login, figures) and /api/operator/* (figures as JSON, key
// and publisher actions). Nothing here answers without the operator session.
import { fileURLToPath } from "node:url";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { Logger } from "pino";
import { z } from "zod";
import type { KeyStore } from "../keys/key-store.js";
import { STREAM_NAME } from "../keys/key-store.js";
import type { SessionManager } from "../session/session-manager.js";
import { ClientLimiter, clientAddress, rateKey } from "../stats/client-limiter.js";
import type { OperatorOverview, StreamInfo } from "../wire/index.js";
import { SESSION_COOKIE, type OperatorAuth } from "./auth.js";
import { streamFigures, streamHistory, totals } from "./figures.js";
import { contentType, loadStaticFiles } from "../http/static-files.js";
import { loginPage } from "./pages.js";
import { crossOriginRefusal } from "./same-origin.js";
import type { MetricSamples } from "./snapshots.js";

// origin/dist/src/operator -> dashboard/dist/www, where `npm run build` puts the page.
const DEFAULT_DIR = fileURLToPath(new URL("../../../../dashboard/dist/www/", import.meta.url));
const DASHBOARD_CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface OperatorDeps {
  auth: OperatorAuth;
  samples: MetricSamples;
  sessions: SessionManager;
  keys: KeyStore;
  streams: () => StreamInfo[];
  rtmpUrl: string;
  /** The origin's public URL: its host is one the operator's pages may post from. */
  publicUrl: string;
  /** Where the generated token is, for the login page; undefined when it came from the environment. */
  tokenFile: string | undefined;
  secureCookie: boolean;
  /** Built dashboard files; undefined: found next to this package. */
  dashboardDir: string | undefined;
  trustProxy: boolean;
  log: Logger;
}

const AddKey = z.object({ stream: z.string().regex(STREAM_NAME), label: z.string().max(200).optional() }).strict();

export function addOperatorRoutes(app: Hono, d: OperatorDeps): void {
  // Login attempts per client address: guessing a token is slow.
  const logins = new ClientLimiter({ ratePerMin: 10, burst: 5, maxClients: 10_000 });
  const html = (c: Context, body: string, status: 200 | 401 | 429 = 200) =>
    c.html(body, status, {
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
    });

  // Every state-changing request, whatever its content type, from the operator's own pages only.
  for (const path of ["/dashboard/*", "/api/operator/*"]) {
    app.use(path, async (c, next) => {
      if (c.req.method === "GET" || c.req.method === "HEAD") return next();
      const refusal = crossOriginRefusal(
        { secFetchSite: c.req.header("sec-fetch-site"), origin: c.req.header("origin"), host: c.req.header("host") },
        d.publicUrl,
      );
      if (refusal === undefined) return next();
      d.log.warn({ path: c.req.path, refusal }, "operator request refused");
      return c.json({ error: refusal }, 403);
    });
  }
  app.use("/api/operator/*", async (c, next) => {
    if (!d.auth.isOperator(c)) return c.json({ error: "operator login required" }, 401);
    c.header("Cache-Control", "no-store");
    await next();
  });

  const files = loadStaticFiles(d.dashboardDir ?? DEFAULT_DIR, "dashboard.js", d.log);
  const file = (c: Context, name: string) => {
    const body = files.get(name);
    if (!body) return c.text("the dashboard is not built on this server\n", 503);
    return c.body(body, 200, {
      "Content-Type": contentType(name),
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": DASHBOARD_CSP,
    });
  };

  const login = (c: Context, error?: string, status: 401 | 429 = 401) => html(c, loginPage(d.tokenFile, error), status);
  app.get("/dashboard", (c) => {
    if (!d.auth.isOperator(c)) return login(c);
    return file(c, "dashboard.html");
  });
  // Code and styles only (no figures): served like the player's files.
  app.get("/dashboard/assets/:file{[A-Za-z0-9._-]+}", (c) => {
    const name = c.req.param("file");
    return name.endsWith(".html") || !files.has(name) ? c.text("not found\n", 404) : file(c, name);
  });

  app.post("/dashboard/login", async (c) => {
    const client = rateKey(clientAddress(getConnInfo(c).remote.address, c.req.header("x-forwarded-for"), d.trustProxy));
    if (!logins.take(client)) return login(c, "Too many attempts: wait a minute.", 429);
    const form = await c.req.parseBody();
    if (typeof form.token !== "string" || !d.auth.tokenMatches(form.token)) {
      d.log.warn({ client }, "operator login refused");
      return login(c, "Wrong token.");
    }
    const maxAge = Math.floor(d.auth.ttlMs / 1000);
    setCookie(c, SESSION_COOKIE, d.auth.startSession(), { httpOnly: true, sameSite: "Strict", secure: d.secureCookie, path: "/", maxAge });
    return c.redirect("/dashboard", 303);
  });

  app.post("/dashboard/logout", (c) => {
    d.auth.endSession(c);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/dashboard", 303);
  });

  app.get("/api/operator/overview", (c) => c.json(overview(d)));

  app.post("/api/operator/keys", async (c) => {
    const parsed = AddKey.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: 'expected {"stream": name, "label"?: text}' }, 400);
    const key = d.keys.addKey(parsed.data.stream, parsed.data.label);
    const entry = d.keys.entries().at(-1)!;
    d.log.info({ stream: entry.stream, keyFingerprint: entry.fingerprint }, "stream key added by the operator");
    return c.json({ key, fingerprint: entry.fingerprint, stream: entry.stream }, 201);
  });

  // By the fingerprint's hex part (`key#1a2b3c4d` -> /api/operator/keys/1a2b3c4d): no `#` in URLs.
  app.delete("/api/operator/keys/:id{[0-9a-f]{8}}", (c) => {
    const fingerprint = `key#${c.req.param("id")}`;
    if (!d.keys.revokeKey(fingerprint)) return c.json({ error: "no such key" }, 404);
    d.log.info({ keyFingerprint: fingerprint }, "stream key revoked by the operator");
    return c.body(null, 204);
  });

  app.post(`/api/operator/streams/:stream{[a-z0-9_-]{1,64}}/disconnect`, (c) => {
    const session = d.sessions.session(c.req.param("stream"));
    if (!session?.hasPublisher) return c.json({ error: "no publisher on this stream" }, 404);
    session.disconnectPublisher("disconnected by the operator");
    return c.body(null, 204);
  });
}

function overview(d: OperatorDeps): OperatorOverview {
  const streams = d.streams();
  const keys = d.keys.entries();
  return {
    totals: totals(d.samples, streams),
    streams: streams.map((s) =>
      streamFigures(
        d.samples,
        s,
        keys.filter((k) => k.stream === s.name).map(({ fingerprint, label }) => ({ fingerprint, ...(label ? { label } : {}) })),
      ),
    ),
    history: Object.fromEntries(streams.map((s) => [s.name, streamHistory(d.samples, s.name)])),
    rtmpUrl: d.rtmpUrl,
  };
}
