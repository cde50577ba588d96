// A campus or carrier-grade NAT puts thousands of viewers behind one address. The real tracker
// takes them at the pace an audience arrives (the standing per-address cap, at its default, is
// far above an audience), and refuses only a burst of new connections beyond the per-address
// token bucket, counted as connections_rate.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RawClient } from "./support/raw-client.js";
import { startEmptyOrigin, type EmptyOrigin } from "./support/empty-origin.js";
import { metric, startTracker, type TrackerHandle } from "./support/tracker-process.js";

let origin: EmptyOrigin;
let tracker: TrackerHandle;
const clients: RawClient[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const connections = async () => ((await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { connections: number }).connections;
const refused = (reason: string) => metric(tracker.metrics, "peercast_tracker_refused_total", `reason="${reason}"`);

before(async () => {
  origin = await startEmptyOrigin();
  // PEERCAST_TRACKER_CONNECTIONS_PER_IP stays at its default. The bucket: 50 new connections a
  // second, 20 at once (small, so that the test's burst needs few connections).
  tracker = await startTracker(origin.http, { PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: "3000", PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: "20" });
});

after(async () => {
  for (const c of clients) c.close();
  await tracker?.stop();
  await origin?.stop();
});

test("200 connections from one address, opened at a steady pace under the rate, are all accepted", async () => {
  for (let i = 0; i < 200; i++) {
    clients.push(await RawClient.open(tracker.url));
    await sleep(25); // at most 40 a second: a slow machine only slows the pace further
  }
  assert.equal(await connections(), 200);
  assert.equal(await refused("connections_per_ip"), 0);
  assert.equal(await refused("connections_rate"), 0);
});

test("a burst of new connections beyond the bucket is refused with 429 and counted as connections_rate", async (t) => {
  await sleep(1000); // the bucket is full again (20 tokens at 50 a second)
  const open0 = await connections();
  // 150 at once: without a refusal, the tracker would have to take 2.6 s over them.
  const results = await Promise.allSettled(Array.from({ length: 150 }, () => RawClient.open(tracker.url)));
  const accepted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  clients.push(...accepted);
  const rejections = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
  assert.ok(
    rejections.every((e) => /429/.test(e)),
    `refused with 429 only: ${rejections.find((e) => !/429/.test(e))}`,
  );
  assert.ok(accepted.length >= 20, `the bucket's burst got through: ${accepted.length}`);
  assert.ok(rejections.length > 0, `the rest of the burst was refused: ${accepted.length} accepted`);
  assert.equal(await refused("connections_rate"), rejections.length);
  assert.equal(await refused("connections_per_ip"), 0, "refused for the rate, not the standing cap");
  assert.equal(await connections(), open0 + accepted.length);
  t.diagnostic(`burst of 150: ${accepted.length} accepted, ${rejections.length} refused`);
});
