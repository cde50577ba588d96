// A hostile viewer whose browser alters every segment it sends (same length, flipped bytes):
// the honest viewers reject its segments by SHA-256, disconnect it, fetch over HTTP instead,
// and hls.js only ever receives the origin's exact bytes. A viewer never connects again to a
// peer it rejected, and once viewers at two addresses reported it, the tracker bans it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchChromium, waitFor } from "@peercast/origin/testing";
import type { SegmentHashList, StreamListResponse } from "@peercast/origin/wire";
import { forwardedForProxy, webSocketsVia } from "./support/forwarded-for-proxy.js";
import { freePort, startSystem } from "./support/system.js";
import { metricSum, openViewer } from "./support/viewers.js";

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
// notes (with the time) which peers sent a rejected segment, and which were connected and
// disconnected.
const RECORD_FRAGMENTS = `(() => {
  Object.assign(window, { fragmentHashes: [], rejectedFrom: [], closedPeers: [], connectedPeers: [] });
  let bound;
  setInterval(() => {
    const playback = window.peercast?.playback;
    const hls = playback?.hls;
    if (!hls || hls === bound) return;
    bound = hls;
    playback.engine.addEventListener("onSegmentError", (d) => d.error.type === "p2p-segment-validation-failed" && window.rejectedFrom.push([d.peerId, Date.now()]));
    playback.engine.addEventListener("onPeerClose", (d) => window.closedPeers.push(d.peerId));
    playback.engine.addEventListener("onPeerConnect", (d) => window.connectedPeers.push([d.peerId, Date.now()]));
    hls.on("hlsFragLoaded", async (_e, d) => {
      const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", d.payload))].map((b) => b.toString(16).padStart(2, "0")).join("");
      window.fragmentHashes.push([d.frag.relurl ?? d.frag.url, hex]);
    });
  }, 50);
})();`;

/** After each honest viewer's first rejection of the hostile peer, this long with no reconnection. */
const WATCH_AFTER_MS = 40_000;

test("segments from a hostile peer are rejected, it is disconnected and stays out, playback stays correct", async () => {
  // The tracker listens on a port of its own, behind a proxy on the pages' tracker port that
  // gives each honest viewer an address of its own.
  const ownPort = await freePort();
  const system = await startSystem({
    env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: "240p:426x240:400" },
    // Announces every ~10 s: upstream's engine would meet the hostile peer again several times
    // in the window watched.
    trackerEnv: { PEERCAST_TRACKER_PORT: String(ownPort), PEERCAST_TRACKER_ANNOUNCE_INTERVAL_SEC: "10", PEERCAST_TRACKER_TRUST_PROXY: "1" },
  });
  const proxy = await forwardedForProxy(system.trackerPort, ownPort);
  const browser = await launchChromium({ webrtc: true });
  try {
    const url = `${system.origin.http}/watch/main`;
    // The hostile viewer comes first so that it holds segments the others want.
    const hostile = await openViewer(browser, url, { initScript: TAMPER });
    await hostile.playsOn(2);
    const honest = await Promise.all(
      ["192.0.2.1", "198.51.100.2"].map((address) =>
        openViewer(browser, url, { initScript: `${RECORD_FRAGMENTS}\n${webSocketsVia(system.trackerPort, address)}` }),
      ),
    );
    // The origin's hash lists, gathered while the window moves on.
    const known = new Map<string, string>();
    const gather = async () => {
      const list = (await (await fetch(`${system.origin.http}/api/streams`)).json()) as StreamListResponse;
      const session = list.streams.find((s) => s.name === "main")!.session!;
      const h = (await (await fetch(`${system.origin.http}/hls/main/${session.id}/240p/hashes.json`)).json()) as SegmentHashList;
      for (const [file, hex] of Object.entries(h.segments)) known.set(file, hex);
    };
    const rejected = () => Promise.all(honest.map(async (v) => (await v.stats()).rejectedSegments));
    const bans = () => metricSum(system.tracker.metrics, "peercast_tracker_peers_banned_total");
    // Both honest viewers get a bad segment from it and report it, each from its own address.
    let progress = "";
    await waitFor(
      async () => {
        await gather();
        progress = `segments rejected by the honest viewers: ${(await rejected()).join(", ")}; reports: ${await metricSum(system.tracker.metrics, "peercast_tracker_peer_reports_total")}`;
        return (await bans()) >= 1;
      },
      120_000,
      () => `(no ban; ${progress})`,
    );
    const tampered = await hostile.page.evaluate(() => (window as unknown as { tampered: number }).tampered);
    assert.ok(tampered > 0, "the hostile viewer sent altered segments");

    // Playback (and hash lists) for the watched window after the last first rejection.
    const look = () =>
      Promise.all(
        honest.map((v) =>
          v.page.evaluate(() => {
            const w = window as unknown as { rejectedFrom: [string, number][]; closedPeers: string[]; connectedPeers: [string, number][] };
            return { rejectedFrom: w.rejectedFrom, closed: w.closedPeers, connected: w.connectedPeers };
          }),
        ),
      );
    const lastFirstRejection = Math.max(...(await look()).map((s) => s.rejectedFrom[0]?.[1] ?? Date.now()));
    while (Date.now() < lastFirstRejection + WATCH_AFTER_MS) {
      await gather();
      await new Promise((r) => setTimeout(r, 2000));
    }
    const seen = await look();
    // A swarm peer id is the same for everyone: the one both honest viewers met is the hostile one.
    const hostileId = seen[0]!.connected.map(([id]) => id).find((id) => seen[1]!.connected.some(([other]) => other === id));
    assert.ok(hostileId, "both honest viewers met the hostile one");
    seen.forEach((s, i) => {
      const firstRejection = s.rejectedFrom.find(([id]) => id === hostileId)?.[1];
      assert.ok(firstRejection !== undefined, `honest viewer ${i} rejected the hostile one's segments as its own`);
      assert.ok(s.closed.includes(hostileId), "and disconnected it");
      const again = s.connected.filter(([id, at]) => id === hostileId && at > firstRejection).length;
      assert.equal(again, 0, `honest viewer ${i} connected to the hostile one again ${again} time(s) after rejecting it`);
      assert.ok(
        s.rejectedFrom.every(([id]) => id === hostileId),
        `honest viewer ${i} blamed only the hostile one: ${JSON.stringify(s.rejectedFrom)}`,
      );
    });
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
    await proxy.close();
    await system.stop();
  }
});
