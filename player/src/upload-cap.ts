// The operator's upload cap per viewer. p2p-media-loader has no rate limit, only an upload
// switch, so a token bucket decides: every byte sent spends budget that refills at the cap's
// rate; while the budget is spent, upload is off. A segment already on its way still goes
// out, and is paid back before the next one: the average holds, whatever the segment size.
import type { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import type { ViewerStats } from "./viewer-stats.js";

const TICK_MS = 250;
const BURST_SEC = 4;

export class UploadBudget {
  private tokens: number;
  private readonly burst: number;

  constructor(
    private readonly bytesPerSec: number,
    private lastAt: number,
    private lastBytes: number,
  ) {
    this.burst = bytesPerSec * BURST_SEC;
    this.tokens = this.burst;
  }

  /** Takes the cumulative upload count at time `at` (ms); true while over budget. */
  update(at: number, totalBytes: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((at - this.lastAt) / 1000) * this.bytesPerSec) - (totalBytes - this.lastBytes);
    this.lastAt = at;
    this.lastBytes = totalBytes;
    return this.tokens < 0;
  }
}

export class UploadCap {
  private paused = false;
  private readonly timer: number;

  constructor(engine: HlsJsP2PEngine, kbps: number, stats: ViewerStats) {
    const budget = new UploadBudget((kbps * 1000) / 8, performance.now(), stats.uploadedBytes);
    this.timer = self.setInterval(() => {
      const over = budget.update(performance.now(), stats.uploadedBytes);
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
