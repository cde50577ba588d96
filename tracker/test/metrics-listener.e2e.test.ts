// /metrics and /stats.json are the operators': on a listener of their own (loopback by
// default), never on the public WebSocket port that players (and anyone) reach.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RawClient } from "./support/raw-client.js";
import { startEmptyOrigin, type EmptyOrigin } from "./support/empty-origin.js";
import { startTracker, type TrackerHandle } from "./support/tracker-process.js";

let origin: EmptyOrigin;
let tracker: TrackerHandle;

before(async () => {
  origin = await startEmptyOrigin();
  tracker = await startTracker(origin.http);
});

after(async () => {
  await tracker?.stop();
  await origin?.stop();
});

test("the public port serves /healthz and WebSockets, and answers 404 for /metrics and /stats.json", async () => {
  assert.notEqual(tracker.metrics, tracker.http, "two listeners");
  assert.equal((await fetch(`${tracker.http}/healthz`)).status, 200);
  for (const path of ["/metrics", "/stats.json"]) {
    const res = await fetch(`${tracker.http}${path}`);
    assert.equal(res.status, 404, path);
    assert.doesNotMatch(await res.text(), /peercast_tracker/, path);
  }
  const c = await RawClient.open(tracker.url);
  c.close();
});

test("the metrics port serves /metrics and /stats.json, and nothing of the players'", async () => {
  const metrics = await fetch(`${tracker.metrics}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /text\/plain/);
  assert.match(await metrics.text(), /^peercast_tracker_connections \d+$/m);
  const stats = (await (await fetch(`${tracker.metrics}/stats.json`)).json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(stats).sort(), ["activeSwarms", "connections", "liveSwarms", "peers"]);
  assert.equal((await fetch(`${tracker.metrics}/healthz`)).status, 404);
  await assert.rejects(RawClient.open(tracker.metrics.replace(/^http/, "ws")), "no WebSocket on the metrics port");
});
