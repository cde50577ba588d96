// P2P off for good reasons, said in the panel, with playback over HTTP: a browser without
// WebRTC, a viewer's own choice (remembered), Data Saver (no upload), the operator's switch;
// and a browser that can play nothing gets a message, never a blank player.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium, waitFor, waitForSegment, waitLive } from "@peercast/origin/testing";
import { startSystem, type System } from "./support/system.js";
import { openViewer, type Viewer } from "./support/viewers.js";

let system: System;
let browser: Browser;
let url: string;

before(async () => {
  system = await startSystem({ env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: "180p:320x180:250" } });
  browser = await launchChromium({ webrtc: true });
  url = `${system.origin.http}/watch/main`;
  const session = (await waitLive(system.origin.http, "main")).session!.id;
  await waitForSegment(system.origin.http, "main", session, "180p", 3);
});

after(async () => {
  await browser?.close();
  await system?.stop();
});

/** Opens a viewer and notes every WebSocket it opens (the tracker is the only one). */
async function viewer(initScript?: string): Promise<Viewer & { sockets: string[] }> {
  const v = await openViewer(browser, "about:blank", initScript ? { initScript } : {});
  const sockets: string[] = [];
  v.page.on("websocket", (ws) => sockets.push(ws.url()));
  await v.page.goto(url);
  return Object.assign(v, { sockets });
}

const panelText = (v: Viewer) => v.page.textContent(".pc-p2p-status");

test("without WebRTC: plays over HTTP and says why", async () => {
  const v = await viewer("delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;");
  await v.playsOn(3);
  const s = await v.stats();
  assert.deepEqual(s.p2p, { download: false, upload: false, reason: "no-webrtc" });
  assert.ok(s.httpBytes > 0 && s.p2pBytes === 0);
  await waitFor(async () => /no WebRTC/.test((await panelText(v)) ?? ""), 5000);
  assert.deepEqual(v.sockets, [], "no tracker connection");
  await v.close();
});

const NO_MSE = "delete window.MediaSource; delete window.ManagedMediaSource; delete window.WebKitMediaSource;";

test("without MSE: the browser's own HLS over HTTP, P2P off and said why", async (t) => {
  const v = await viewer(NO_MSE);
  if (!(await v.page.evaluate(() => document.createElement("video").canPlayType("application/vnd.apple.mpegurl")))) {
    await v.close();
    return t.skip("this Chromium has no native HLS: the next test covers a browser without either");
  }
  await v.playsOn(3);
  assert.equal((await v.stats()).p2p.reason, "no-mse");
  await waitFor(async () => /natively/.test((await panelText(v)) ?? ""), 5000);
  assert.deepEqual(v.sockets, []);
  await v.close();
});

test("without MSE or native HLS: a message, not a blank player", async () => {
  const v = await viewer(`${NO_MSE} HTMLMediaElement.prototype.canPlayType = () => "";`);
  await waitFor(async () => (await v.state()) === "unsupported", 10_000);
  assert.match((await v.page.textContent(".pc-slate")) ?? "", /cannot play/);
  assert.equal(await v.page.isVisible(".pc-slate"), true);
  await v.close();
});

test("a viewer turns P2P off; the choice is remembered across reloads", async () => {
  const v = await viewer();
  await v.playsOn(1);
  await waitFor(
    () => v.sockets.length > 0,
    10_000,
    () => "(P2P on by default: the tracker is used)",
  );
  await v.page.uncheck(".pc-p2p-allow");
  await waitFor(async () => (await v.stats()).p2p.reason === "viewer", 5000);
  await v.page.reload();
  v.sockets.length = 0;
  await v.playsOn(3);
  assert.equal(await v.page.isChecked(".pc-p2p-allow"), false);
  assert.equal((await v.stats()).p2p.reason, "viewer");
  await waitFor(async () => /You turned P2P off/.test((await panelText(v)) ?? ""), 5000);
  assert.deepEqual(v.sockets, []);
  await v.page.check(".pc-p2p-allow");
  await waitFor(async () => (await v.stats()).p2p.download === true, 5000);
  await v.close();
});

test("Data Saver: receives from peers, uploads nothing", async () => {
  const saver = await viewer("Object.defineProperty(navigator, 'connection', { get: () => ({ saveData: true, type: 'wifi' }) });");
  const other = await viewer();
  await waitFor(
    async () => (await saver.stats()).p2pBytes > 0,
    45_000,
    () => "(the Data Saver viewer got nothing from its peer)",
  );
  const [s, o] = [await saver.stats(), await other.stats()];
  assert.deepEqual(s.p2p, { download: true, upload: false, reason: "save-data" });
  assert.equal(s.uploadedBytes, 0);
  assert.equal(o.p2pBytes, 0, "its only peer received nothing from it");
  await saver.close();
  await other.close();
});

/** Sets the stream's player settings in the keys file; the origin reloads it live. */
async function streamSettings(settings: Record<string, unknown>): Promise<void> {
  const keys = JSON.parse(fs.readFileSync(system.origin.keysFile, "utf8")) as Record<string, unknown>;
  fs.writeFileSync(system.origin.keysFile, JSON.stringify({ ...keys, streams: { main: settings } }));
  const wanted = JSON.stringify({ p2p: true, uploadKbps: 0, ...settings });
  await waitFor(async () => {
    const { player } = (await (await fetch(`${system.origin.http}/api/streams/main`)).json()) as { player: Record<string, unknown> };
    return JSON.stringify({ p2p: player.p2p, uploadKbps: player.uploadKbps, ...settings }) === wanted;
  }, 5000);
}

test("the operator's upload cap holds each viewer's upload near the cap", async () => {
  const capKbps = 40; // 5 KB/s, about a tenth of this stream's bitrate
  await streamSettings({ uploadKbps: capKbps });
  const viewers = [await viewer(), await viewer()];
  await Promise.all(viewers.map((v) => v.playsOn(3)));
  const before = await Promise.all(viewers.map((v) => v.stats()));
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 30_000));
  const after = await Promise.all(viewers.map((v) => v.stats()));
  const seconds = (Date.now() - started) / 1000;
  const uploaded = after.map((s, i) => s.uploadedBytes - before[i]!.uploadedBytes);
  // Besides the cap: its 4 s burst (20 KB) and what is already on its way when it runs out: up
  // to two segments (~95 KB each here), as a peer may be fetching the next one and the newest.
  // Uncapped, each viewer would send about half the stream (~750 KB in 30 s).
  for (const u of uploaded) assert.ok(u <= capKbps * 125 * (seconds + 4) + 2 * 128 * 1024, `uploaded ${u} B in ${seconds} s`);
  assert.ok(
    uploaded.some((u) => u > 0),
    "the cap limits upload, it does not stop it",
  );
  await Promise.all(viewers.map((v) => v.close()));
});

test("the operator turns P2P off for a stream: no tracker, the panel says so", async () => {
  await streamSettings({ p2p: false, title: "No P2P here" });
  const v = await viewer();
  await v.playsOn(3);
  assert.equal((await v.stats()).p2p.reason, "operator");
  assert.equal(await v.page.title(), "No P2P here");
  await waitFor(async () => /operator/.test((await panelText(v)) ?? ""), 5000);
  assert.deepEqual(v.sockets, []);
  await v.close();
});
