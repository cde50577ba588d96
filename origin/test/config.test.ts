import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import fs from "node:fs";
import { z } from "zod";
import { fileURLToPath } from "node:url";
import { loadConfig, originEnvSchema } from "../src/config.js";
import { envTable, withTable } from "../src/service/index.js";
import { resolveTracker } from "../src/wire/index.js";
import { ORIGIN_MAIN } from "./support/origin-process.js";

test("defaults give the documented ladder, ports and segment duration", () => {
  const c = loadConfig({});
  assert.equal(c.http.port, 8080);
  assert.equal(c.rtmp.port, 1935);
  assert.equal(c.hls.segmentSec, 2);
  assert.deepEqual(
    c.transcode.ladder.map((r) => r.name),
    ["720p", "480p", "360p"],
  );
  assert.equal(c.session.graceSec, 30);
  assert.equal(c.http.publicUrl, "http://localhost:8080");
});

test("invalid values name the variable", () => {
  assert.throws(() => loadConfig({ PEERCAST_HTTP_PORT: "eighty" }), /PEERCAST_HTTP_PORT/);
  assert.throws(() => loadConfig({ PEERCAST_SEGMENT_SEC: "0" }), /PEERCAST_SEGMENT_SEC/);
  assert.throws(() => loadConfig({ PEERCAST_LADDER: "720p" }), /PEERCAST_LADDER/);
  assert.throws(() => loadConfig({ PEERCAST_TEST_SOURCE: "maybe" }), /PEERCAST_TEST_SOURCE/);
});

test("the origin refuses to start on invalid config, saying which variable", () => {
  const r = spawnSync(process.execPath, [ORIGIN_MAIN], {
    env: { PATH: process.env.PATH, PEERCAST_RTMP_PORT: "70000" },
    encoding: "utf8",
    timeout: 10_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid configuration:[\s\S]*PEERCAST_RTMP_PORT/);
});

test("player settings: the operator's tracker on the public host by default, ICE servers validated", () => {
  const c = loadConfig({});
  assert.deepEqual(c.player.trackers, [":8000/"], "port 8000 of the host each page is loaded from");
  assert.deepEqual(c.player.iceServers, []);
  assert.equal(c.player.latency, "balanced");
  assert.deepEqual(loadConfig({ PEERCAST_PUBLIC_URL: "https://live.example.org" }).player.trackers, ["wss://live.example.org:8000/"]);
  assert.deepEqual(loadConfig({ PEERCAST_TRACKER_URLS: "wss://t1.example.org, wss://t2.example.org/x" }).player.trackers, [
    "wss://t1.example.org",
    "wss://t2.example.org/x",
  ]);
  const stun = [{ urls: "stun:stun.example.org:3478" }, { urls: ["stun:stun2.example.org"] }];
  assert.deepEqual(loadConfig({ PEERCAST_ICE_SERVERS: JSON.stringify(stun) }).player.iceServers, [
    { urls: ["stun:stun.example.org:3478", "stun:stun2.example.org"] },
  ]);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_URLS: "http://tracker.example.org" }), /PEERCAST_TRACKER_URLS/);
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: "stun:x" }), /PEERCAST_ICE_SERVERS: not JSON/);
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: '[{"urls":"http://x"}]' }), /PEERCAST_ICE_SERVERS\.0\.urls/);
  assert.throws(() => loadConfig({ PEERCAST_LATENCY_MODE: "ultra" }), /PEERCAST_LATENCY_MODE/);
});

test("metrics listen apart from viewers, on loopback unless told otherwise", () => {
  assert.deepEqual(loadConfig({}).metrics, { host: "127.0.0.1", port: 8081 });
  assert.deepEqual(loadConfig({ PEERCAST_METRICS_HOST: "0.0.0.0", PEERCAST_METRICS_PORT: "9464" }).metrics, { host: "0.0.0.0", port: 9464 });
  assert.throws(() => loadConfig({ PEERCAST_METRICS_PORT: "70000" }), /PEERCAST_METRICS_PORT/);
  assert.throws(() => loadConfig({ PEERCAST_HTTP_PORT: "9000", PEERCAST_METRICS_PORT: "9000" }), /PEERCAST_METRICS_PORT: must differ from PEERCAST_HTTP_PORT/);
});

test("TURN: never a static password in what every page gets; a secret to mint credentials per viewer", () => {
  const turn = [{ urls: "stun:stun.example.org" }, { urls: "turn:turn.example.org:3478" }];
  const withStatic = [{ urls: "turn:turn.example.org", username: "u", credential: "p" }];
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: JSON.stringify(withStatic) }), /PEERCAST_ICE_SERVERS: no username\/credential here/);
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: JSON.stringify(turn) }), /turn: URLs need PEERCAST_TURN_SECRET/);
  assert.throws(() => loadConfig({ PEERCAST_TURN_SECRET: "a-shared-secret-of-coturn" }), /PEERCAST_TURN_SECRET: set, but/);
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: JSON.stringify(turn), PEERCAST_TURN_SECRET: "short" }), /PEERCAST_TURN_SECRET/);
  const c = loadConfig({ PEERCAST_ICE_SERVERS: JSON.stringify(turn), PEERCAST_TURN_SECRET: "a-shared-secret-of-coturn", PEERCAST_TURN_TTL_SEC: "600" });
  assert.deepEqual(c.player.iceServers, [{ urls: ["stun:stun.example.org"] }]);
  assert.deepEqual(c.player.turn, { urls: ["turn:turn.example.org:3478"], secret: "a-shared-secret-of-coturn", ttlSec: 600 });
});

test("tracker URLs may name the stream and be paths on the page's host (edges, tracker shards)", () => {
  const c = loadConfig({ PEERCAST_TRACKER_URLS: "/tracker/{stream}, wss://t.example.org/s/{stream}" });
  assert.deepEqual(c.player.trackers, ["/tracker/{stream}", "wss://t.example.org/s/{stream}"]);
  assert.deepEqual(loadConfig({ PEERCAST_TRACKER_URLS: ":8000/" }).player.trackers, [":8000/"]);
  assert.equal(resolveTracker("/tracker/talks", "https://edge1.example.org/watch/talks"), "wss://edge1.example.org/tracker/talks");
  assert.equal(resolveTracker("/tracker/main", "http://127.0.0.1:8081/watch/main"), "ws://127.0.0.1:8081/tracker/main");
  assert.equal(resolveTracker(":8000/", "https://live.example.org:8443/watch/main"), "wss://live.example.org:8000/");
  assert.equal(resolveTracker(":8000/", "http://[::1]:8080/"), "ws://[::1]:8000/");
  assert.equal(resolveTracker("ws://t.example.org:8000/", "https://x.example.org/"), "ws://t.example.org:8000/");
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_URLS: "tracker/{stream}" }), /PEERCAST_TRACKER_URLS: expected ws:\/\/ or wss:\/\/ URLs, paths/);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_URLS: "ws:///x" }), /PEERCAST_TRACKER_URLS/);
});

test("docs/configuration.md lists every origin variable as the schema describes it (npm run docs rewrites it)", () => {
  const page = fs.readFileSync(fileURLToPath(new URL("../../../docs/configuration.md", import.meta.url)), "utf8");
  assert.equal(page, withTable(page, "origin", envTable(originEnvSchema)), "the origin's table is stale: run npm run build && npm run docs");
  for (const name of Object.keys(originEnvSchema.shape)) assert.match(page, new RegExp(`\\| \`${name}\` \\|`));
  // A variable without a description cannot be documented: the table refuses it.
  assert.throws(
    () => envTable(z.object({ PEERCAST_DOCUMENTED: z.string().meta({ description: "d" }), PEERCAST_UNDOCUMENTED: z.string() })),
    /for PEERCAST_UNDOCUMENTED$/,
  );
});
