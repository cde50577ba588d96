// Stats beacons from behind a campus or carrier-grade NAT: many viewers, one address. At the
// default per-address allowance, a crowd's beacons that all come in one interval (the worst
// case: at once) are taken; one page sending flat out is still refused.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startOrigin, type OriginHandle } from "./support/origin-process.js";
import { streamInfo } from "./support/hls.js";
import { beacon } from "./support/beacons.js";

describe("POST /api/stats from many viewers behind one address, at the default limits", () => {
  let origin: OriginHandle;
  const post = (body: unknown) =>
    fetch(`${origin.http}/api/stats`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "text/plain;charset=UTF-8" } });
  const statuses = async (responses: Promise<Response>[]) =>
    Promise.all(
      responses.map(async (r) => {
        const res = await r;
        await res.arrayBuffer();
        return res.status;
      }),
    );

  before(async () => {
    // No PEERCAST_STATS_* set: the shipped defaults are what is tested.
    origin = await startOrigin({ keys: [{ key: "stats-nat-key-Zx81", stream: "main" }] });
  });

  after(async () => {
    await origin?.stop();
  });

  test("300 distinct viewers from one address, each beaconing once in one interval (all at once), are all accepted", async () => {
    const results = await statuses(Array.from({ length: 300 }, (_, i) => post(beacon(`nat-viewer-${i}`, { httpBytes: 1000, playingMs: 5000 }))));
    const counts = results.reduce<Record<number, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {});
    assert.deepEqual(counts, { 204: 300 });
    assert.equal((await streamInfo(origin.http, "main"))?.viewers, 300);
  });

  test("one viewer sending flat out is still refused with 429", async () => {
    const results = await statuses(Array.from({ length: 50 }, () => post(beacon("flooding-viewer", { httpBytes: 1000 }))));
    const ok = results.filter((s) => s === 204).length;
    const limited = results.filter((s) => s === 429).length;
    assert.equal(ok + limited, 50, `only 204 and 429: ${results.join(",")}`);
    // One beacon per second per viewer: 50 requests at once span far less than a second.
    assert.ok(ok >= 1 && ok <= 2, `accepted: ${ok}`);
    assert.equal((await streamInfo(origin.http, "main"))?.viewers, 301, "the flood counts as one viewer");
  });
});
