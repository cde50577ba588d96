// The operator's upload cap per viewer: p2p-media-loader has no rate limit, so upload is
// paused while the average over the last few seconds is above the cap, and resumed below it.
import type { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import type { ViewerStats } from "./viewer-stats.js";

const WINDOW_MS = 5000;
const TICK_MS = 500;

export class UploadCap {
  private readonly samples: { at: number; bytes: number }[] = [];
  private paused = false;
  private readonly timer: number;

  constructor(engine: HlsJsP2PEngine, kbps: number, stats: ViewerStats) {
    const limitBytesPerSec = (kbps * 1000) / 8;
    this.timer = window.setInterval(() => {
      const now = performance.now();
      this.samples.push({ at: now, bytes: stats.uploadedBytes });
      while (this.samples.length > 1 && now - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
      const first = this.samples[0]!;
      const rate = now > first.at ? ((stats.uploadedBytes - first.bytes) * 1000) / (now - first.at) : 0;
      const over = rate > limitBytesPerSec;
      if (over === this.paused) return;
      this.paused = over;
      engine.applyDynamicConfig({ core: { isP2PUploadDisabled: over } });
      stats.p2p = over ? { download: true, upload: false, reason: "upload-cap" } : { download: true, upload: true };
    }, TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
