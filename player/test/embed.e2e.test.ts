// One-tag embedding: a page on another loopback origin with the documented snippet gets a
// responsive, working player in an iframe whose beacons reach the origin.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { getJson, launchChromium, waitFor } from "@peercast/origin/testing";
import type { StreamListResponse } from "@peercast/origin/wire";
import { startSystem } from "./support/system.js";

test("the one-tag snippet plays on another site", async () => {
  const system = await startSystem({ env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: "180p:320x180:250" } });
  // Another port is another origin: the page is a third-party site to the player.
  const site = http.createServer((_req, res) => {
    res.setHeader("Content-Type", "text/html");
    res.end(`<!doctype html><body style="width:640px"><h1>My blog</h1>
      <script src="${system.origin.http}/embed.js" data-stream="main"></script></body>`);
  });
  await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
    const iframe = page.locator("iframe");
    assert.equal(await iframe.getAttribute("allow"), "autoplay; fullscreen");
    const box = await iframe.boundingBox();
    assert.ok(box && Math.abs(box.width / box.height - 16 / 9) < 0.02, "16:9, as wide as its container");
    const frame = page.frames().find((f) => f.url().endsWith("/embed/main"))!;
    assert.ok(frame, "the iframe loads the origin's embed page");
    const time = () => frame.evaluate(() => document.querySelector("video")!.currentTime);
    await waitFor(async () => (await time()) > 3, 40_000);
    await waitFor(async () => (await getJson<StreamListResponse>(`${system.origin.http}/api/streams`)).streams[0]?.viewers === 1, 10_000);
    // The pages name their icon, and the origin serves it.
    const icon = await frame.evaluate(() => document.querySelector("link[rel=icon]")?.getAttribute("href"));
    assert.equal(icon, "/player/favicon.svg");
    const res = await fetch(`${system.origin.http}${icon}`);
    assert.deepEqual([res.status, res.headers.get("content-type")], [200, "image/svg+xml"]);
    assert.match(await res.text(), /^<svg /);
  } finally {
    await browser.close();
    site.close();
    await system.stop();
  }
});
