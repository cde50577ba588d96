// Golden test shared with the tracker: the info hashes a real p2p-media-loader player in
// Chromium announces for each rendition are exactly the ones the tracker derives from the
// origin's master playlist and the session's swarm id (and so accepts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchChromium, waitFor, waitLive, TEST_LADDER } from "@peercast/origin/testing";
import { liveInfoHashes, metric } from "@peercast/tracker/testing";
import { startSystem } from "./support/system.js";
import { openViewer } from "./support/viewers.js";

test("the info hashes players announce are the tracker's, rendition by rendition", async () => {
  const system = await startSystem({ env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: TEST_LADDER } });
  const browser = await launchChromium({ webrtc: true });
  try {
    await waitLive(system.origin.http, "main");
    const viewer = await openViewer(browser, `${system.origin.http}/watch/main`);
    const frames = new Set<string>();
    viewer.page.on("websocket", (ws) =>
      ws.on("framesent", ({ payload }) => {
        const msg = JSON.parse(String(payload)) as { action?: string; info_hash?: string };
        if (msg.action === "announce" && msg.info_hash) frames.add(msg.info_hash);
      }),
    );
    const expected = await liveInfoHashes(system.origin.http, "main");
    assert.equal(expected.length, 2);
    // Pin each rendition in turn with the quality menu; the player joins that rendition's swarm.
    for (const level of ["0", "1"]) {
      await viewer.page.selectOption(".pc-quality", level);
      await waitFor(
        () => frames.size >= Number(level) + 1,
        30_000,
        () => `(announced ${frames.size})`,
      );
      await viewer.playsOn(1);
    }
    assert.deepEqual([...frames].sort(), [...expected].sort());
    assert.equal(await metric(system.tracker.metrics, "peercast_tracker_refused_total", 'reason="not_live"'), 0);
    const stats = (await (await fetch(`${system.tracker.metrics}/stats.json`)).json()) as { peers: number };
    assert.ok(stats.peers >= 1, "the tracker holds the player as a peer");
  } finally {
    await browser.close();
    await system.stop();
  }
});

test("?quality= holds one rendition from the start, ABR off (the load test pins viewers with it)", async () => {
  const system = await startSystem({ env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: TEST_LADDER } });
  const browser = await launchChromium({ webrtc: true });
  try {
    await waitLive(system.origin.http, "main");
    // ABR would start on 240p (hls.js's first level by the playlist's order); 180p is held.
    const viewer = await openViewer(browser, `${system.origin.http}/watch/main?quality=180p`);
    await viewer.playsOn(4);
    assert.equal((await viewer.stats()).rendition, "180p");
    const shown = await viewer.page.$eval(".pc-quality", (el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent);
    assert.equal(shown, "180p", "the menu shows the held rendition, not Auto");
  } finally {
    await browser.close();
    await system.stop();
  }
});
