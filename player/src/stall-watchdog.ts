// Last line of recovery: hls.js can end up idle after long network failures (errors that
// never turn fatal, no more requests). When the picture has not moved for a while although
// the viewer did not pause, restart loading, then reset the media pipeline, then rebuild.
import type Hls from "hls.js";

const CHECK_MS = 1000;
const STUCK_MS = 5000;

export function watchForStalls(hls: Hls, video: HTMLVideoElement, rebuild: () => void): () => void {
  let lastTime = video.currentTime;
  let stuckSince = performance.now();
  let step = 0;
  const timer = window.setInterval(() => {
    const now = performance.now();
    if (video.paused || video.ended || video.currentTime !== lastTime) {
      lastTime = video.currentTime;
      stuckSince = now;
      step = 0;
      return;
    }
    if (now - stuckSince < STUCK_MS * (step + 1)) return;
    step++;
    if (step === 1) hls.startLoad(-1);
    else if (step === 2) hls.recoverMediaError();
    else rebuild();
  }, CHECK_MS);
  return () => clearInterval(timer);
}
