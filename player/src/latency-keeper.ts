// Keeps a viewer near its mode's target latency by playing slightly slower or faster.
// hls.js only adjusts the rate in its low-latency mode, and only to catch up; a viewer who
// started with a short playlist (at go-live) would otherwise stay right at the live edge,
// with almost no buffer and no time for peers to deliver anything.
import type Hls from "hls.js";

const TOO_CLOSE_SEC = 0.5;
const TOO_FAR_SEC = 0.5;
const SLOWER = 0.9;
const FASTER = 1.08;
/**
 * hls.js adds 1 s to its target latency per stall (liveSyncOnStallIncrease, up to a segment)
 * for the rest of the session. A stall while the viewer was still meeting its peers should not
 * cost the whole session: after this long without another, the mode's own target is back.
 */
export const STALL_MEMORY_MS = 30_000;

/** Stalls that still count: those since the last quiet stretch of STALL_MEMORY_MS. */
export class StallMemory {
  private count = 0;
  private last = -Infinity;

  stalled(now: number): void {
    if (now - this.last >= STALL_MEMORY_MS) this.count = 0;
    this.count++;
    this.last = now;
  }

  recent(now: number): number {
    return now - this.last >= STALL_MEMORY_MS ? 0 : this.count;
  }
}

/** The playback rate for a viewer `off` seconds further from live than the target (negative: closer). */
export function keeperRate(rate: number, off: number): number {
  if (off < -TOO_CLOSE_SEC) return SLOWER;
  if (off > TOO_FAR_SEC) return FASTER;
  // Back to normal speed once close enough to the target (hysteresis avoids flapping).
  if ((rate < 1 && off > -0.25) || (rate > 1 && off < 0.25)) return 1;
  return rate;
}

/**
 * `modeTargetSec`: the mode's liveSyncDuration, restored once `stalls` (fed by the caller with
 * hls.js's BUFFER_STALLED_ERROR) are forgotten.
 */
export function keepLatency(hls: Hls, video: HTMLVideoElement, modeTargetSec: number, stalls: StallMemory): () => void {
  const onTime = () => {
    let target = hls.targetLatency;
    // The setter also zeroes hls.js's own stall count.
    if (target !== null && target > modeTargetSec && stalls.recent(performance.now()) === 0) target = hls.targetLatency = modeTargetSec;
    const latency = hls.latency;
    if (target === null || !latency || video.paused) return;
    const rate = keeperRate(video.playbackRate, latency - target);
    if (rate !== video.playbackRate) video.playbackRate = rate;
  };
  video.addEventListener("timeupdate", onTime);
  return () => {
    video.removeEventListener("timeupdate", onTime);
    video.playbackRate = 1;
  };
}
