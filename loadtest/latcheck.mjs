// temporary diagnostic (not committed): hls.js target latency vs our stall count in a P2P viewer
import { startLocalTarget } from "./dist/src/target.js";
import { Audience } from "./dist/src/audience.js";
import { launchChromium } from "@peercast/origin/testing";
const transport = process.argv[2] ?? "p2p";
const target = await startLocalTarget({ stream: "main", ladder: "360p:640x360:800", rendition: "360p" });
const browser = await launchChromium({ webrtc: true });
const aud = new Audience({ browser, originUrl: target.originUrl, stream: "main", rendition: "360p", transport, sampleMs: 1000 });
aud.addLightPeers(3, 300);
await aud.addViewer();
const [[, v]] = aud.viewerPages;
for (let i = 0; i < 20; i++) {
  await new Promise((r) => setTimeout(r, 2000));
  const s = await v.page.evaluate(() => {
    const p = window.peercast.playback; const h = p.hls; const vid = document.querySelector("video");
    return { t: h.targetLatency, l: +h.latency.toFixed(2), rate: vid.playbackRate, buf: +(vid.buffered.length ? vid.buffered.end(vid.buffered.length - 1) - vid.currentTime : 0).toFixed(2), stalls: window.peercast.stats.stalls, lat: window.peercast.stats.latencyMs };
  });
  console.log(transport, i * 2, JSON.stringify(s));
}
await aud.close(); await browser.close(); await target.stop();
