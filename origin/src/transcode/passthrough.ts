export interface SourceProbe {
  width: number;
  height: number;
  fps: number;
  /** Measured between the source's first two keyframes; undefined when not seen. */
  keyframeIntervalMs: number | undefined;
}

/**
 * Whether the source's own video can be cut into segments as it is: only when its keyframes
 * fall exactly on segment boundaries (interval = segment duration, to the millisecond).
 * Otherwise the reason, for the operator's log.
 */
export function passthroughRefusal(probe: SourceProbe, segmentSec: number): string | undefined {
  if (!probe.width || !probe.height) return "the source did not announce its size";
  const interval = probe.keyframeIntervalMs;
  if (interval === undefined) return "no second keyframe to measure the source's keyframe interval";
  // Exact (FLV timestamps are whole ms): any difference adds up segment after segment.
  if (Math.abs(interval - segmentSec * 1000) > 1) {
    return `source keyframe interval is ${(interval / 1000).toFixed(2)} s, segments are ${segmentSec} s (set the encoder's keyframe interval to ${segmentSec} s)`;
  }
  return undefined;
}
