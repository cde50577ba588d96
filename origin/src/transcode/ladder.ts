import type { RenditionInfo } from "../wire/index.js";

/** One configured rung: a target height and video bitrate; width follows the source's aspect. */
export interface LadderRung {
  name: string;
  width: number;
  height: number;
  videoBitrateKbps: number;
}

export interface SourceVideo {
  width: number;
  height: number;
  fps: number;
}

/** Parses "720p:1280x720:2800,480p:854x480:1400" (name:WxH:kbps, comma-separated). */
export function parseLadderSpec(spec: string): LadderRung[] {
  const rungs = spec.split(",").map((part) => {
    const m = /^([a-z0-9_-]{1,32}):(\d{2,4})x(\d{2,4}):(\d{2,6})$/.exec(part.trim());
    if (!m) throw new Error(`rung "${part}" is not name:WIDTHxHEIGHT:KBPS (e.g. 720p:1280x720:2800)`);
    const [, name, w, h, kbps] = m as unknown as [string, string, string, string, string];
    return { name, width: Number(w), height: Number(h), videoBitrateKbps: Number(kbps) };
  });
  if (rungs.length === 0) throw new Error("the ladder needs at least one rung");
  const names = new Set(rungs.map((r) => r.name));
  if (names.size !== rungs.length) throw new Error("rung names must be unique");
  if (rungs.some((r) => r.width % 2 || r.height % 2)) throw new Error("rung sizes must be even");
  return [...rungs].sort((a, b) => b.height - a.height);
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * Freezes the ladder for a session: rungs above the source height are dropped (never
 * upscale); a source smaller than every rung gets one rendition at its own size with the
 * smallest rung's bitrate scaled by pixel count. Output fps is the source's, capped.
 */
export function freezeLadder(
  rungs: LadderRung[],
  source: SourceVideo,
  opts: { maxFps: number; audioKbps: number },
): RenditionInfo[] {
  const fps = Math.max(1, Math.min(opts.maxFps, Math.round(source.fps) || opts.maxFps));
  const aspect = source.width > 0 && source.height > 0 ? source.width / source.height : 16 / 9;
  const fitting = rungs.filter((r) => r.height <= source.height);
  const chosen: LadderRung[] = fitting.length > 0 ? fitting : [scaledSmallest(rungs, source)];
  return chosen.map((r) => ({
    name: r.name,
    // Width from the source aspect, bounded by the rung's width so a wide source never exceeds it.
    width: Math.min(even(r.height * aspect), r.width),
    height: r.width < r.height * aspect ? even(r.width / aspect) : r.height,
    fps,
    videoBitrateKbps: r.videoBitrateKbps,
    audioBitrateKbps: opts.audioKbps,
  }));
}

function scaledSmallest(rungs: LadderRung[], source: SourceVideo): LadderRung {
  const smallest = rungs[rungs.length - 1]!;
  const ratio = (source.width * source.height) / (smallest.width * smallest.height);
  return {
    name: `${even(source.height)}p`,
    width: even(source.width),
    height: even(source.height),
    videoBitrateKbps: Math.max(100, Math.round(smallest.videoBitrateKbps * ratio)),
  };
}
