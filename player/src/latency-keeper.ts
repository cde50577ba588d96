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

/**
 * A playback whose first frame came late (a slow link or device: hls.js picks the start point
 * when the playlist arrives, and everything until the first frame adds to latency) starts
 * seconds behind its target, and 8 % faster play takes half a minute to win that back. Within
 * its first seconds, while nobody has watched much yet, it jumps instead, if what it has
 * buffered reaches past the target point.
 */
export const START_JUMP_WITHIN_MS = 10_000;
const START_JUMP_BEHIND_SEC = 1;
/** Buffered beyond the point jumped to, so that the jump does not land on a stall. */
const START_JUMP_MARGIN_SEC = 1;

/**
 * Where to jump to, if at all: `off` seconds behind the target, `sinceFirstFrameMs` into the
 * playback, with media buffered to `bufferedEnd` ahead of `currentTime` (contiguously).
 */
export function startJump(currentTime: number, off: number, bufferedEnd: number, sinceFirstFrameMs: number): number | undefined {
  if (sinceFirstFrameMs > START_JUMP_WITHIN_MS || off < START_JUMP_BEHIND_SEC) return undefined;
  const to = currentTime + off;
  return bufferedEnd >= to + START_JUMP_MARGIN_SEC ? to : undefined;
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
  let firstFrameAt: number | undefined;
  const onTime = () => {
    let target = hls.targetLatency;
    // The setter also zeroes hls.js's own stall count.
    if (target !== null && target > modeTargetSec && stalls.recent(performance.now()) === 0) target = hls.targetLatency = modeTargetSec;
    const latency = hls.latency;
    if (target === null || !latency || video.paused) return;
    firstFrameAt ??= performance.now();
    const jump = startJump(video.currentTime, latency - target, bufferedEndFrom(video), performance.now() - firstFrameAt);
    if (jump !== undefined) {
      video.currentTime = jump;
      firstFrameAt = -Infinity; // once
      return;
    }
    const rate = keeperRate(video.playbackRate, latency - target);
    if (rate !== video.playbackRate) video.playbackRate = rate;
  };
  video.addEventListener("timeupdate", onTime);
  return () => {
    video.removeEventListener("timeupdate", onTime);
    video.playbackRate = 1;
  };
}

/** The end of the buffered range that holds the playhead (the playhead itself if none does). */
function bufferedEndFrom(video: HTMLVideoElement): number {
  const t = video.currentTime;
  for (let i = 0; i < video.buffered.length; i++) if (video.buffered.start(i) <= t + 0.1 && t < video.buffered.end(i)) return video.buffered.end(i);
  return t;
}
