// Keeps a viewer near its mode's target latency by playing slightly slower or faster.
// hls.js only adjusts the rate in its low-latency mode, and only to catch up; a viewer who
// started with a short playlist (at go-live) would otherwise stay right at the live edge,
// with almost no buffer and no time for peers to deliver anything.
import type Hls from "hls.js";

const TOO_CLOSE_SEC = 0.5;
const TOO_FAR_SEC = 0.5;
const SLOWER = 0.9;
const FASTER = 1.08;

/** The playback rate for a viewer `off` seconds further from live than the target (negative: closer). */
export function keeperRate(rate: number, off: number): number {
  if (off < -TOO_CLOSE_SEC) return SLOWER;
  if (off > TOO_FAR_SEC) return FASTER;
  // Back to normal speed once close enough to the target (hysteresis avoids flapping).
  if ((rate < 1 && off > -0.25) || (rate > 1 && off < 0.25)) return 1;
  return rate;
}

export function keepLatency(hls: Hls, video: HTMLVideoElement): () => void {
  const onTime = () => {
    const target = hls.targetLatency;
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
