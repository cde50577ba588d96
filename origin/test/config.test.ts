import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { loadConfig, trackerFor } from "../src/config.js";
import { ORIGIN_MAIN } from "./support/origin-process.js";

test("defaults give the documented ladder, ports and segment duration", () => {
  const c = loadConfig({});
  assert.equal(c.http.port, 8080);
  assert.equal(c.rtmp.port, 1935);
  assert.equal(c.hls.segmentSec, 2);
  assert.deepEqual(c.transcode.ladder.map((r) => r.name), ["720p", "480p", "360p"]);
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
  assert.equal(c.player.trackers, undefined, "port 8000 of the host each page is loaded from");
  assert.deepEqual(c.player.iceServers, []);
  assert.equal(c.player.latency, "balanced");
  assert.deepEqual(loadConfig({ PEERCAST_PUBLIC_URL: "https://live.example.org" }).player.trackers, ["wss://live.example.org:8000/"]);
  assert.deepEqual(loadConfig({ PEERCAST_TRACKER_URLS: "wss://t1.example.org, wss://t2.example.org/x" }).player.trackers, ["wss://t1.example.org", "wss://t2.example.org/x"]);
  const ice = [{ urls: "stun:stun.example.org:3478" }, { urls: ["turn:turn.example.org"], username: "u", credential: "p" }];
  assert.deepEqual(loadConfig({ PEERCAST_ICE_SERVERS: JSON.stringify(ice) }).player.iceServers, ice);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_URLS: "http://tracker.example.org" }), /PEERCAST_TRACKER_URLS/);
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: "stun:x" }), /PEERCAST_ICE_SERVERS: not JSON/);
  assert.throws(() => loadConfig({ PEERCAST_ICE_SERVERS: '[{"urls":"http://x"}]' }), /PEERCAST_ICE_SERVERS\.0\.urls/);
  assert.throws(() => loadConfig({ PEERCAST_LATENCY_MODE: "ultra" }), /PEERCAST_LATENCY_MODE/);
});

test("tracker URLs may name the stream and be paths on the page's host (edges, tracker shards)", () => {
  const c = loadConfig({ PEERCAST_TRACKER_URLS: "/tracker/{stream}, wss://t.example.org/s/{stream}" });
  assert.deepEqual(c.player.trackers, ["/tracker/{stream}", "wss://t.example.org/s/{stream}"]);
  assert.equal(trackerFor("/tracker/{stream}", "https://edge1.example.org/watch/talks", "talks"), "wss://edge1.example.org/tracker/talks");
  assert.equal(trackerFor("/tracker/{stream}", "http://127.0.0.1:8081/api/streams/main", "main"), "ws://127.0.0.1:8081/tracker/main");
  assert.equal(trackerFor("wss://t.example.org/s/{stream}", "https://x.example.org/", "main"), "wss://t.example.org/s/main");
  assert.equal(trackerFor("ws://t.example.org:8000/", "https://x.example.org/", "main"), "ws://t.example.org:8000/");
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_URLS: "tracker/{stream}" }), /PEERCAST_TRACKER_URLS: expected ws:\/\/ or wss:\/\/ URLs or paths/);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_URLS: "ws:///x" }), /PEERCAST_TRACKER_URLS/);
});
