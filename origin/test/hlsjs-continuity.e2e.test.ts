// A real hls.js in real Chromium keeps playing through an ffmpeg crash and an OBS reconnect.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { test } from "node:test";
import { cmdline, descendants, startOrigin, waitFor } from "./support/origin-process.js";
import { publish } from "./support/publisher.js";
import { waitForSegment, waitLive } from "./support/hls.js";
import { launchChromium } from "./support/browser.js";

const KEY = "continuity-key-77";
const HLS_JS = createRequire(import.meta.url).resolve("hls.js/dist/hls.min.js");

/** A page on another loopback origin than the stream's (CORS is part of what is tested). */
function servePage(masterUrl: string): Promise<http.Server> {
  const page = `<!doctype html><video id=v muted playsinline></video><script src=/hls.js></script><script>
    window.state = { errors: [], fatal: null, loads: 0 };
    const hls = new Hls({ liveSyncDurationCount: 3 });
    hls.on(Hls.Events.ERROR, (_e, d) => { state.errors.push(d.details); if (d.fatal) state.fatal = d.details; });
    hls.on(Hls.Events.MANIFEST_PARSED, () => document.getElementById("v").play());
    hls.loadSource(${JSON.stringify(masterUrl)});
    hls.attachMedia(document.getElementById("v"));
    state.loads = Number(sessionStorage.loads = Number(sessionStorage.loads || 0) + 1);
  </script>`;
  const server = http.createServer((req, res) => {
    if (req.url === "/hls.js") res.end(fs.readFileSync(HLS_JS));
    else res.end(page);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

test("hls.js keeps playing through an ffmpeg restart and a publisher reconnect, without reload", async () => {
  const origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }] });
  let publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY });
  const browser = await launchChromium();
  const server = await servePage(`${origin.http}/hls/main/master.m3u8`);
  try {
    const session = (await waitLive(origin.http, "main")).session!.id;
    await waitForSegment(origin.http, "main", session, "180p", 3);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const time = () => page.evaluate(() => (document.getElementById("v") as HTMLVideoElement).currentTime);
    const playedPast = (t: number) => waitFor(async () => (await time()) > t, 40_000);
    await playedPast(3);

    const transcoder = descendants(origin.pid).find((p) => cmdline(p).includes(`/hls/main/${session}/`))!;
    process.kill(transcoder, "SIGKILL");
    const atCrash = await time();
    await playedPast(atCrash + 8);

    await publisher.stop("SIGKILL");
    await new Promise((r) => setTimeout(r, 3000));
    publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY });
    const atReconnect = await time();
    await playedPast(atReconnect + 10);

    const state = await page.evaluate(() => (window as unknown as { state: { fatal: string | null; loads: number } }).state);
    assert.equal(state.fatal, null);
    assert.equal(state.loads, 1, "the page never reloaded");
  } finally {
    await browser.close();
    server.close();
    await publisher.stop("SIGKILL");
    await origin.stop();
  }
});
