// Last line of recovery: hls.js can end up idle after long network failures (errors that
// never turn fatal, no more requests). When the picture has not moved for a while although
// it played before, nobody paused it and the publisher is there, restart loading, then
// rebuild the player.
import type Hls from "hls.js";

const CHECK_MS = 1000;
const STUCK_MS = 5000;

export function watchForStalls(hls: Hls, video: HTMLVideoElement, isLive: () => boolean, rebuild: () => void): () => void {
  let played = false;
  const onPlaying = () => (played = true);
  video.addEventListener("playing", onPlaying);
  let lastTime = video.currentTime;
  let stuckSince = performance.now();
  let step = 0;
  const timer = self.setInterval(() => {
    const now = performance.now();
    // Before the first frame, start-up is still under way; without a publisher nothing comes.
    if (!played || video.paused || video.ended || !isLive() || video.currentTime !== lastTime) {
      lastTime = video.currentTime;
      stuckSince = now;
      step = 0;
      return;
    }
    if (now - stuckSince < STUCK_MS * (step + 1)) return;
    step++;
    if (step === 1) hls.startLoad(-1);
    else if (step === 2) rebuild();
  }, CHECK_MS);
  return () => {
    clearInterval(timer);
    video.removeEventListener("playing", onPlaying);
  };
}
