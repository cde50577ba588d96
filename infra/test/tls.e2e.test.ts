// TLS at the edge with a self-signed certificate on loopback: pages, playlists and segments
// over https, and players told to use wss on the same host, which reaches the tracker; what the
// edge caches for everyone does not depend on the Host or scheme of whoever asked first.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { startOrigin, waitLive, type OriginHandle } from "@peercast/origin/testing";
import { resolveTracker, type StreamDetailResponse } from "@peercast/origin/wire";
import { freePort } from "@peercast/player/testing";
import { startTracker, type TrackerHandle } from "@peercast/tracker/testing";
import { startNginx, type NginxHandle } from "./support/nginx.js";

let origin: OriginHandle;
let tracker: TrackerHandle;
let edge: NginxHandle;
let tlsPort: number;
let ca: Buffer;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-tls-"));
  const [cert, key] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
  // What an operator brings: a certificate for the name players use (here 127.0.0.1).
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  ca = fs.readFileSync(cert);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(key, 0o644); // nginx's master reads it; with root it would anyway
  origin = await startOrigin({
    env: {
      PEERCAST_TEST_SOURCE: "1",
      PEERCAST_TEST_SOURCE_SIZE: "320x180",
      PEERCAST_LADDER: "180p:320x180:250",
      PEERCAST_TRACKER_URLS: "/tracker/{stream}",
      PEERCAST_TRUST_PROXY: "1",
    },
  });
  tracker = await startTracker(origin.http, { PEERCAST_TRACKER_TRUST_PROXY: "1" });
  tlsPort = await freePort();
  edge = await startNginx(await freePort(), {
    PEERCAST_NGINX_ORIGIN: new URL(origin.http).host,
    PEERCAST_NGINX_TRACKERS: new URL(tracker.http).host,
    PEERCAST_NGINX_TLS_LISTEN: `127.0.0.1:${tlsPort}`,
    PEERCAST_NGINX_TLS_CERT: cert,
    PEERCAST_NGINX_TLS_KEY: key,
  });
});

after(async () => {
  await edge?.stop();
  await tracker?.stop();
  await origin?.stop();
});

/** GET over plain http with any headers (fetch() would not send a Host of our choosing). */
function plainGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      })
      .on("error", reject);
  });
}

/** GET over https, trusting only the test's certificate. */
function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: "127.0.0.1", port: tlsPort, path: p, ca, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

test("https pages and media, wss tracker on the same host, through the operator's certificate", async () => {
  const session = (await waitLive(origin.http, "main")).session!;
  const detail = JSON.parse((await get("/api/streams/main")).body.toString()) as StreamDetailResponse;
  const wss = `wss://127.0.0.1:${tlsPort}/tracker/main`;
  assert.deepEqual(
    detail.player.trackers.map((t) => resolveTracker(t, `https://127.0.0.1:${tlsPort}/watch/main`)),
    [wss],
    "players on an https page get wss on the page's host",
  );
  const page = await get("/watch/main");
  assert.equal(page.status, 200);
  // 'self' covers wss to the page's own host and port.
  assert.match(String(page.headers["content-security-policy"]), /connect-src 'self';/);
  const master = await get(session.masterPlaylist);
  assert.equal(master.status, 200);
  assert.match(master.body.toString(), /#EXTM3U/);

  const before = (await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { connections: number };
  const ws = new WebSocket(wss, { ca });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const during = (await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { connections: number };
  ws.terminate();
  assert.equal(during.connections, before.connections + 1, "the wss socket reached the tracker");

  // A client that does not trust the certificate is refused: TLS is real.
  await assert.rejects(
    new Promise((resolve, reject) => https.get({ host: "127.0.0.1", port: tlsPort, path: "/healthz" }, resolve).on("error", reject)),
    /self[- ]signed/,
  );
});

test("no cached answer depends on the asker's Host or scheme: forged Host and plain http cannot poison https viewers", async () => {
  await waitLive(origin.http, "main");
  const edgeHttp = edge.http;
  // What an attacker does every second: ask through the same edge with a Host of their own,
  // over plain http, and with a forwarded scheme of their choosing.
  const forged = async () => {
    const variants: Record<string, string>[] = [{ Host: "evil.example" }, { Host: "evil.example", "X-Forwarded-Proto": "http" }, {}];
    for (const headers of variants) {
      const res = await plainGet(`${edgeHttp}/api/streams/main`, headers);
      assert.equal(res.status, 200);
    }
  };
  const honest: string[] = [];
  const end = Date.now() + 3500; // across several of the edge's 1 s cache periods
  while (Date.now() < end) {
    await forged();
    const res = await get("/api/streams/main");
    honest.push(res.body.toString());
    await forged();
    honest.push((await get("/api/streams/main", { Host: `127.0.0.1:${tlsPort}` })).body.toString());
  }
  for (const body of honest) {
    const detail = JSON.parse(body) as StreamDetailResponse;
    assert.deepEqual(
      detail.player.trackers.map((t) => resolveTracker(t, `https://127.0.0.1:${tlsPort}/watch/main`)),
      [`wss://127.0.0.1:${tlsPort}/tracker/main`],
      body,
    );
    assert.ok(!body.includes("evil.example") && !body.includes("ws://"), body);
  }
  // Pages (not cached, but checked): their CSP names no host taken from the request.
  const page = await plainGet(`${edgeHttp}/watch/main`, { Host: "evil.example" });
  assert.equal(page.status, 200);
  assert.ok(!String(page.headers["content-security-policy"]).includes("evil.example"));
});
