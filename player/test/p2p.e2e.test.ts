// Three real viewers in Chromium share segments over real WebRTC on loopback: most bytes
// come from peers, the origin serves each segment about once, and the beacons, the origin's
// /metrics and what the pages counted agree.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { getJson, launchChromium, waitFor, waitForSegment, waitLive } from "@peercast/origin/testing";
import type { StreamListResponse, StatsBeacon } from "@peercast/origin/wire";
import { startSystem, type System } from "./support/system.js";
import { metricSum, openViewer, type Viewer } from "./support/viewers.js";

let system: System;
let browser: Browser;
const viewers: Viewer[] = [];

before(async () => {
  system = await startSystem({
    env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: "240p:426x240:400" },
  });
  browser = await launchChromium({ webrtc: true });
});

after(async () => {
  await browser?.close();
  await system?.stop();
});

const sum = (list: StatsBeacon[], key: "httpBytes" | "p2pBytes") => list.reduce((n, s) => n + s[key], 0);

/** In the page: when the video first played, and when the first WebSocket (the tracker's) opened. */
const RECORD_SWARM_JOIN = `(() => {
  const times = (window.__times = {});
  document.addEventListener("playing", () => (times.firstFrame ??= performance.now()), true);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); times.firstSocket ??= performance.now(); }
  };
})()`;

test("three viewers: most segment bytes from peers, about one origin copy per segment", async () => {
  const url = `${system.origin.http}/watch/main`;
  // Viewers join a stream that has been live a while, each at its own moment.
  const session = (await waitLive(system.origin.http, "main")).session!.id;
  await waitForSegment(system.origin.http, "main", session, "240p", 6);
  for (let i = 0; i < 3; i++) {
    viewers.push(await openViewer(browser, url, { initScript: RECORD_SWARM_JOIN }));
    await new Promise((r) => setTimeout(r, 1500));
  }
  await Promise.all(viewers.map((v) => v.playsOn(4)));
  // Meeting the swarm waits for the first frame: it must not slow the start.
  for (const v of viewers) {
    const t = await v.page.evaluate(() => (window as unknown as { __times: { firstFrame?: number; firstSocket?: number } }).__times);
    assert.ok(
      t.firstFrame !== undefined && t.firstSocket !== undefined && t.firstSocket >= t.firstFrame,
      `tracker socket after the first frame: ${JSON.stringify(t)}`,
    );
  }
  // Warm-up over: measure a steady window.
  const fetches = () => metricSum(system.origin.metrics, "peercast_origin_segment_fetches_total", { stream: "main" });
  const produced = () => metricSum(system.origin.metrics, "peercast_segments_produced_total", { stream: "main" });
  const [f0, p0, s0] = await Promise.all([fetches(), produced(), Promise.all(viewers.map((v) => v.stats()))]);
  await new Promise((r) => setTimeout(r, 40_000));
  const [f1, p1, s1] = await Promise.all([fetches(), produced(), Promise.all(viewers.map((v) => v.stats()))]);

  const p2p = sum(s1, "p2pBytes") - sum(s0, "p2pBytes");
  const http = sum(s1, "httpBytes") - sum(s0, "httpBytes");
  const share = p2p / (p2p + http);
  const copies = (f1 - f0) / (p1 - p0);
  console.log(
    JSON.stringify({
      share,
      copies,
      p2p,
      http,
      fetches: f1 - f0,
      produced: p1 - p0,
      viewers: s1.map((s, i) => [
        s.httpBytes - s0[i]!.httpBytes,
        s.p2pBytes - s0[i]!.p2pBytes,
        s.uploadedBytes - s0[i]!.uploadedBytes,
        s.peers,
        s.stalls,
        s.latencyMs,
      ]),
    }),
  );
  assert.ok(
    s1.every((s) => s.peers > 0),
    "every viewer has peers",
  );
  assert.ok(share >= 0.5, `share from peers ${share.toFixed(2)} >= 0.5`);
  assert.ok(copies <= 1.5, `origin copies per segment ${copies.toFixed(2)} <= 1.5`);
  for (const v of viewers) {
    await v.playsOn(2);
    assert.deepEqual(v.errors, []);
  }
});

test("the beacons, /metrics and /api/streams agree with what the pages counted", async () => {
  const before = await Promise.all(viewers.map((v) => v.stats()));
  await new Promise((r) => setTimeout(r, 2500)); // more than one beacon interval (1 s here)
  const [httpM, p2pM, uploadedM] = await Promise.all([
    metricSum(system.origin.metrics, "peercast_viewer_bytes_total", { stream: "main", source: "http" }),
    metricSum(system.origin.metrics, "peercast_viewer_bytes_total", { stream: "main", source: "p2p" }),
    metricSum(system.origin.metrics, "peercast_viewer_uploaded_bytes_total", { stream: "main" }),
  ]);
  const after = await Promise.all(viewers.map((v) => v.stats()));
  // The origin's totals lie between what the pages had counted before and after.
  for (const [m, key] of [
    [httpM, "httpBytes"],
    [p2pM, "p2pBytes"],
  ] as const) {
    assert.ok(m >= sum(before, key) && m <= sum(after, key), `${key}: metrics ${m} within [${sum(before, key)}, ${sum(after, key)}]`);
  }
  const uploaded = (l: StatsBeacon[]) => l.reduce((n, s) => n + s.uploadedBytes, 0);
  assert.ok(uploadedM >= uploaded(before) && uploadedM <= uploaded(after));
  // Every byte a peer received, another peer sent.
  assert.ok(Math.abs(uploaded(after) - sum(after, "p2pBytes")) <= 0.02 * sum(after, "p2pBytes") + 256 * 1024);
  const list = await getJson<StreamListResponse>(`${system.origin.http}/api/streams`);
  assert.equal(list.streams.find((s) => s.name === "main")?.viewers, 3);
  // The tracker counts the same three, as peers of this stream's swarm.
  await waitFor(async () => (await metricSum(system.tracker.metrics, "peercast_tracker_stream_peers", { stream: "main" })) === 3, 10_000);
  await waitFor(async () => (await viewers[0]!.page.textContent(".pc-viewers")) === "3 watching", 10_000);
});
