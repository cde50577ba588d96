// Thousands of malformed and hostile messages (seeded, so every run sends the same) from many
// connections, while honest clients keep announcing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { publish, seededRandom, startOrigin, waitFor, waitLive } from "@peercast/origin/testing";
import { accepted, announce, id20, offers, RawClient } from "./support/raw-client.js";
import { liveInfoHashes, metric, startTracker } from "./support/tracker-process.js";

const KEY = "tracker-fuzz-key-1";

/** One hostile message: text (maybe not JSON) or a binary frame. */
function hostile(rand: () => number, live: string[]): string | Buffer {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 256))).join("");
  const ih = pick([...live, junk(20), "short", ""]);
  const kinds: (() => string | Buffer)[] = [
    () => junk(1 + Math.floor(rand() * 200)),
    () => JSON.stringify(announce(ih, id20("fz"))).slice(0, Math.floor(rand() * 60)),
    () => JSON.stringify({ action: pick(["announce", "scrape", "nuke", null, 7, ["announce"]]), info_hash: ih }),
    () => JSON.stringify(announce(ih, pick([null, 5, {}, [], junk(20), junk(3)]) as string)),
    () => JSON.stringify(announce(ih, id20("fz"), { offers: pick([null, [null], [{}], "x", offers(50), [{ offer: null, offer_id: 1 }]]) })),
    () => JSON.stringify(announce(ih, id20("fz"), { answer: { type: "answer", sdp: "v=0" }, offer_id: junk(20), to_peer_id: junk(20) })),
    () => JSON.stringify(announce(ih, id20("fz"), { event: pick(["stopped", "completed", "bogus", 1]), left: pick([-1, "x", 1e308]) })),
    () => JSON.stringify(announce(ih, id20("fz"), { numwant: pick([-5, 1e9, "50", null]) })),
    () => "[".repeat(500) + "]".repeat(500),
    () =>
      JSON.stringify({
        action: "announce",
        info_hash: ih,
        peer_id: id20("big"),
        offers: [{ offer: { type: "offer", sdp: "x".repeat(30_000) }, offer_id: id20("o") }],
      }),
    () => Buffer.from(junk(64), "latin1"),
    () => JSON.stringify(announce(ih, id20("honest-a"), { event: "stopped" })), // someone else's peer
  ];
  return pick(kinds)();
}

test("fuzz: hostile traffic never crashes the tracker or starves honest clients, and memory returns", async (t) => {
  const origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }] });
  const p = publish({ rtmpPort: origin.rtmpPort, key: KEY, size: "426x240" });
  await waitLive(origin.http, "main");
  const live = await liveInfoHashes(origin.http, "main");
  const tracker = await startTracker(origin.http, {
    PEERCAST_TRACKER_MAX_MESSAGE_BYTES: "32768",
    PEERCAST_TRACKER_CONNECTIONS_PER_IP: "100",
    // The hostile clients come back at once whenever closed for abuse, all from one address:
    // this test is about messages, not about the rate of new connections.
    PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: "100000",
    PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: "100000",
  });
  const heap = async () => (await metric(tracker.metrics, "peercast_tracker_nodejs_heap_size_used_bytes")) / 2 ** 20;
  try {
    // Honest clients announce every 300 ms and must always be answered.
    let answered = 0;
    let asked = 0;
    const honest = await Promise.all([RawClient.open(tracker.url), RawClient.open(tracker.url)]);
    let stop = false;
    const honestLoop = Promise.all(
      honest.map(async (c, i) => {
        while (!stop) {
          asked++;
          c.send(announce(live[i % live.length]!, id20(`honest-${"ab"[i]}`)));
          await c.next((m) => accepted(m) && m.info_hash === live[i % live.length]);
          answered++;
          await new Promise((r) => setTimeout(r, 300));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = await heap();

    const rand = seededRandom(1234);
    let sent = 0;
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        let c = await RawClient.open(tracker.url);
        for (let i = 0; i < 200; i++) {
          if (c.closed) c = await RawClient.open(tracker.url); // closed for abuse: come back
          const m = hostile(rand, live);
          if (typeof m === "string") c.send(m);
          else c.ws.send(m);
          sent++;
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 20));
        }
        c.close();
      }),
    );
    stop = true;
    await honestLoop;
    for (const c of honest) c.close();
    assert.equal(tracker.proc.exitCode, null, "the tracker is still running");
    assert.equal(answered, asked, "every honest announce was answered");
    assert.ok(sent >= 5000);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="invalid"')) > 500);

    await waitFor(async () => ((await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { connections: number }).connections === 0, 10_000);
    const stats = (await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { peers: number };
    assert.equal(stats.peers, 0, "closed sockets left no peers behind");
    // The heap comes back once the sockets are gone (a few MiB of GC slack allowed).
    const after = await waitFor(
      async () => {
        const h = await heap();
        return h - baseline < 8 ? h : undefined;
      },
      20_000,
      () => `heap stayed above ${baseline.toFixed(1)} + 8 MiB`,
    );
    t.diagnostic(`${sent} hostile messages, ${answered} honest announces answered; heap ${baseline.toFixed(1)} -> ${after.toFixed(1)} MiB`);
  } finally {
    await tracker.stop();
    await p.stop();
    await origin.stop();
  }
});
