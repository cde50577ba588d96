// What a viewer sees as a stream comes and goes, with no reload: an offline slate that turns
// into playback by itself, a publisher reconnect, a tracker restart, the end of the session,
// and a clear page for a name that does not exist.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { cmdline, descendants, launchChromium, publish, waitFor, type Publisher } from "@peercast/origin/testing";
import { startSystem, type System } from "./support/system.js";
import { openViewer, type Viewer } from "./support/viewers.js";

const KEY = "states-key-1234";
let system: System;
let browser: Browser;
let publisher: Publisher | undefined;
const viewers: Viewer[] = [];

before(async () => {
  system = await startSystem({
    keys: [{ key: KEY, stream: "main" }],
    env: { PEERCAST_LADDER: "180p:320x180:250", PEERCAST_GRACE_SEC: "8" },
  });
  browser = await launchChromium({ webrtc: true });
});

after(async () => {
  await browser?.close();
  await publisher?.stop("SIGKILL");
  await system?.stop();
});

/** The page's own marker: gone if the page ever reloaded. */
const sameDocument = (v: Viewer) => v.page.evaluate(() => (window as unknown as { marker?: number }).marker === 1);

test("an offline stream shows a slate, then plays by itself when it goes live", async () => {
  for (let i = 0; i < 2; i++) {
    const v = await openViewer(browser, `${system.origin.http}/watch/main`);
    viewers.push(v);
    await waitFor(async () => (await v.state()) === "offline", 10_000);
    assert.match((await v.page.textContent(".pc-slate")) ?? "", /not live right now/);
    await v.page.evaluate(() => Object.assign(window, { marker: 1 }));
  }
  publisher = publish({ rtmpPort: system.origin.rtmpPort, key: KEY });
  const live = Date.now();
  await Promise.all(viewers.map((v) => v.playsOn(1, 30_000)));
  console.log(`playing ${Date.now() - live} ms after the publisher started`);
  for (const v of viewers) {
    assert.equal(await v.state(), "live");
    assert.equal(await v.page.isVisible(".pc-slate"), false);
    assert.equal(await v.page.evaluate(() => document.querySelector("video")!.muted), true, "starts muted");
    assert.equal(await v.page.isVisible(".pc-mute"), true, "with a visible unmute control");
    assert.equal(await v.page.locator("button", { hasText: "Unmute" }).count(), 1, "one, in the control bar");
  }
  // The watch page as a viewer sees it (docs/images/watch.png comes from here).
  const screenshot = fileURLToPath(new URL("./screenshots/watch.png", import.meta.url));
  fs.mkdirSync(path.dirname(screenshot), { recursive: true });
  await viewers[0]!.page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
  // Two viewers of one session meet through the tracker.
  await waitFor(
    async () => (await Promise.all(viewers.map((v) => v.stats()))).every((s) => s.p2pBytes > 0 || s.uploadedBytes > 0),
    40_000,
    () => "(no P2P traffic)",
  );
});

test("ffmpeg killed mid-stream, then a publisher reconnect: playback goes on", async () => {
  const transcoder = descendants(system.origin.pid).find((p) => cmdline(p).includes("/hls/main/"));
  assert.ok(transcoder, "the session's ffmpeg");
  process.kill(transcoder, "SIGKILL");
  await Promise.all(viewers.map((v) => v.playsOn(6, 45_000)));
  await publisher!.stop("SIGKILL");
  await new Promise((r) => setTimeout(r, 2000));
  publisher = publish({ rtmpPort: system.origin.rtmpPort, key: KEY });
  await Promise.all(viewers.map((v) => v.playsOn(8, 45_000)));
  for (const v of viewers) assert.ok(await sameDocument(v));
});

test("a tracker restart: playback goes on and a new viewer meets the others again", async () => {
  await system.tracker.stop();
  await Promise.all(viewers.map((v) => v.playsOn(4)));
  await system.restartTracker();
  const late = await openViewer(browser, `${system.origin.http}/watch/main`);
  viewers.push(late);
  await waitFor(
    async () => (await late.stats()).peers > 0,
    40_000,
    () => "(the new viewer found no peer)",
  );
  await Promise.all(viewers.map((v) => v.playsOn(2)));
});

test("when the session ends the page says so", async () => {
  await publisher!.stop("SIGINT");
  publisher = undefined;
  await Promise.all(viewers.map((v) => waitFor(async () => (await v.state()) === "ended", 40_000)));
  assert.match((await viewers[0]!.page.textContent(".pc-slate")) ?? "", /ended/);
  for (const v of viewers) assert.deepEqual(v.errors, []);
});

test("an unknown stream name gets a clear not-found page", async () => {
  const res = await fetch(`${system.origin.http}/watch/no-such-stream`);
  assert.equal(res.status, 404);
  assert.match(await res.text(), /No such stream/);
  const bad = await fetch(`${system.origin.http}/embed/..%2Fetc`);
  assert.equal(bad.status, 404);
});
