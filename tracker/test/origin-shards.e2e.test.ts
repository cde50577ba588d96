// Origins sharded by stream: one tracker follows two real origins, each live with its own
// stream, and accepts both streams' swarms; an origin that stops answering keeps its swarms
// (a blip must not cut its viewers apart), and /healthz shows how long it has been silent.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startOrigin, waitFor, waitLive, type OriginHandle } from "@peercast/origin/testing";
import { accepted, announce, id20, RawClient } from "./support/raw-client.js";
import { liveInfoHashes, startTracker, type TrackerHandle } from "./support/tracker-process.js";

const shard = (stream: string) =>
  startOrigin({
    env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_STREAM: stream, PEERCAST_TEST_SOURCE_SIZE: "320x180", PEERCAST_LADDER: "180p:320x180:200" },
  });

let origins: OriginHandle[] = [];
let tracker: TrackerHandle;
const clients: RawClient[] = [];

before(async () => {
  origins = await Promise.all([shard("main"), shard("demo")]);
  await Promise.all([waitLive(origins[0]!.http, "main"), waitLive(origins[1]!.http, "demo")]);
  tracker = await startTracker(origins.map((o) => o.http).join(","));
});

after(async () => {
  for (const c of clients) c.close();
  await tracker?.stop();
  await Promise.all(origins.map((o) => o.stop()));
});

async function announced(infoHash: string, peer: string): Promise<Record<string, unknown>> {
  const c = await RawClient.open(tracker.url);
  clients.push(c);
  c.send(announce(infoHash, id20(peer), { event: "started" }));
  return c.next((m) => accepted(m) || "warning message" in m || "failure reason" in m);
}

test("a tracker following two origin shards accepts both streams' swarms; a silent shard keeps its own", async () => {
  const [main] = await liveInfoHashes(origins[0]!.http, "main");
  const [demo] = await liveInfoHashes(origins[1]!.http, "demo");
  // The tracker polls every origin before it listens.
  assert.ok(accepted(await announced(main!, "m1")), "the first shard's swarm");
  assert.ok(accepted(await announced(demo!, "d1")), "the second shard's swarm");
  assert.match(String((await announced(id20("nowhere"), "n1"))["warning message"]), /not live/);

  await origins[1]!.stop();
  // Several polls later the silent shard's swarm is still there, and the health check says so.
  await waitFor(
    async () => {
      const health = (await (await fetch(`${tracker.http}/healthz`)).json()) as { originSeenMsAgo: number };
      return health.originSeenMsAgo > 2000;
    },
    15_000,
    () => "/healthz never reported the stopped shard's silence",
  );
  assert.ok(accepted(await announced(demo!, "d2")), "kept through the shard's silence");
  assert.ok(accepted(await announced(main!, "m2")), "the other shard unaffected");
});
