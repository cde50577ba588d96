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
 * Freezes the ladder for a session: a rung's height is the output's short side, rungs above
 * the source's short side are dropped (never upscale), and the long side follows the source
 * aspect, capped by the rung's width. A source smaller than every rung gets one rendition at
 * its own size. Output fps is the source's, capped.
 */
export function freezeLadder(rungs: LadderRung[], source: SourceVideo, opts: { maxFps: number; audioKbps: number }): RenditionInfo[] {
  const fps = Math.max(1, Math.min(opts.maxFps, Math.round(source.fps) || opts.maxFps));
  const portrait = source.height > source.width;
  const short = Math.min(source.width, source.height);
  const aspect = short > 0 ? Math.max(source.width, source.height) / short : 16 / 9;
  const fitting = rungs.filter((r) => r.height <= short);
  const chosen: LadderRung[] = fitting.length > 0 ? fitting : [scaledSmallest(rungs, source)];
  return chosen.map((r) => {
    const long = Math.min(even(r.height * aspect), Math.max(r.width, r.height));
    const shortSide = long < r.height * aspect ? even(long / aspect) : r.height;
    return {
      name: r.name,
      width: portrait ? shortSide : long,
      height: portrait ? long : shortSide,
      fps,
      videoBitrateKbps: r.videoBitrateKbps,
      audioBitrateKbps: opts.audioKbps,
    };
  });
}

function scaledSmallest(rungs: LadderRung[], source: SourceVideo): LadderRung {
  const smallest = rungs[rungs.length - 1]!;
  const ratio = (source.width * source.height) / (smallest.width * smallest.height);
  return {
    name: `${even(Math.min(source.width, source.height))}p`,
    width: even(source.width),
    height: even(source.height),
    videoBitrateKbps: Math.max(100, Math.round(smallest.videoBitrateKbps * ratio)),
  };
}

/**
 * Puts the source's own video (copied, not encoded) on top of the ladder, dropping the rungs
 * it makes redundant (as large as the source or larger).
 */
export function addPassthrough(renditions: RenditionInfo[], source: SourceVideo & { videoKbps: number }, audioKbps: number): RenditionInfo[] {
  const short = Math.min(source.width, source.height);
  return [
    {
      name: "source",
      width: source.width,
      height: source.height,
      fps: source.fps,
      videoBitrateKbps: source.videoKbps,
      audioBitrateKbps: audioKbps,
      passthrough: true,
    },
    ...renditions.filter((r) => Math.min(r.width, r.height) < short),
  ];
}
