// A hostile viewer whose browser alters every segment it sends (same length, flipped bytes):
// the honest viewers reject its segments by SHA-256, disconnect it, fetch over HTTP instead,
// and hls.js only ever receives the origin's exact bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchChromium, waitFor } from "@peercast/origin/testing";
import type { SegmentHashList, StreamListResponse } from "@peercast/origin/wire";
import { startSystem } from "./support/system.js";
import { openViewer } from "./support/viewers.js";

// Wire-level tampering: segment data goes out in large DataChannel messages, commands in small ones.
const TAMPER = `(() => {
  const send = RTCDataChannel.prototype.send;
  window.tampered = 0;
  RTCDataChannel.prototype.send = function (data) {
    if (data && typeof data.byteLength === "number" && data.byteLength >= 16384) {
      const bytes = new Uint8Array(data instanceof ArrayBuffer ? data.slice(0) : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      for (let i = 100; i < bytes.length; i += 1000) bytes[i] ^= 0x5a;
      window.tampered++;
      return send.call(this, bytes);
    }
    return send.call(this, data);
  };
})();`;

// Hashes every fragment hls.js receives, to compare with the origin's list afterwards, and
// notes which peers sent a rejected segment and which peers were disconnected.
const RECORD_FRAGMENTS = `(() => {
  Object.assign(window, { fragmentHashes: [], rejectedFrom: [], closedPeers: [], connectedPeers: [] });
  let bound;
  setInterval(() => {
    const playback = window.peercast?.playback;
    const hls = playback?.hls;
    if (!hls || hls === bound) return;
    bound = hls;
    playback.engine.addEventListener("onSegmentError", (d) => d.error.type === "p2p-segment-validation-failed" && window.rejectedFrom.push(d.peerId));
    playback.engine.addEventListener("onPeerClose", (d) => window.closedPeers.push(d.peerId));
    playback.engine.addEventListener("onPeerConnect", (d) => window.connectedPeers.push(d.peerId));
    hls.on("hlsFragLoaded", async (_e, d) => {
      const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", d.payload))].map((b) => b.toString(16).padStart(2, "0")).join("");
      window.fragmentHashes.push([d.frag.relurl ?? d.frag.url, hex]);
    });
  }, 50);
})();`;

test("segments from a hostile peer are rejected, it is disconnected, playback stays correct", async () => {
  const system = await startSystem({ env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: "240p:426x240:400" } });
  const browser = await launchChromium({ webrtc: true });
  try {
    const url = `${system.origin.http}/watch/main`;
    // The hostile viewer comes first so that it holds segments the others want.
    const hostile = await openViewer(browser, url, { initScript: TAMPER });
    await hostile.playsOn(2);
    const honest = [await openViewer(browser, url, { initScript: RECORD_FRAGMENTS }), await openViewer(browser, url, { initScript: RECORD_FRAGMENTS })];
    // The origin's hash lists, gathered while the window moves on.
    const known = new Map<string, string>();
    const gather = async () => {
      const list = (await (await fetch(`${system.origin.http}/api/streams`)).json()) as StreamListResponse;
      const session = list.streams.find((s) => s.name === "main")!.session!;
      const h = (await (await fetch(`${system.origin.http}/hls/main/${session.id}/240p/hashes.json`)).json()) as SegmentHashList;
      for (const [file, hex] of Object.entries(h.segments)) known.set(file, hex);
    };
    const rejected = () => Promise.all(honest.map(async (v) => (await v.stats()).rejectedSegments));
    await waitFor(async () => {
      await gather();
      return (await rejected()).some((n) => n > 0);
    }, 60_000, () => "(no honest viewer rejected a segment)");
    const tampered = await hostile.page.evaluate(() => (window as unknown as { tampered: number }).tampered);
    assert.ok(tampered > 0, "the hostile viewer sent altered segments");

    // Ten more seconds of playback (and of hash lists) before checking what happened.
    for (let i = 0; i < 5; i++) {
      await gather();
      await new Promise((r) => setTimeout(r, 2000));
    }
    const seen = await Promise.all(honest.map((v) => v.page.evaluate(() => {
      const w = window as unknown as { rejectedFrom: string[]; closedPeers: string[]; connectedPeers: string[] };
      return { rejectedFrom: w.rejectedFrom, closed: w.closedPeers, connected: w.connectedPeers };
    })));
    // A swarm peer id is the same for everyone: the one both honest viewers met is the hostile one.
    const hostileId = seen[0]!.connected.find((id) => seen[1]!.connected.includes(id));
    assert.ok(hostileId, "both honest viewers met the hostile one");
    const caught = seen.filter((s) => s.rejectedFrom.includes(hostileId));
    assert.ok(caught.length > 0, "its segments were rejected as its own");
    for (const s of caught) assert.ok(s.closed.includes(hostileId), "and it was disconnected");
    for (const v of honest) {
      await v.playsOn(3);
      assert.deepEqual(v.errors, []);
      const fragments = await v.page.evaluate(() => (window as unknown as { fragmentHashes: [string, string][] }).fragmentHashes);
      const checked = fragments.filter(([f]) => known.has(f.split("/").pop()!));
      assert.ok(checked.length >= 5, `enough fragments checked (${checked.length})`);
      for (const [file, hex] of checked) assert.equal(hex, known.get(file.split("/").pop()!), `hls.js got the origin's bytes for ${file}`);
    }
  } finally {
    await browser.close();
    await system.stop();
  }
});
