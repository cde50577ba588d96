// Dashboard figures per stream, from samples of the metrics registries (see snapshots.ts).
import type { OperatorHistoryPoint, OperatorStreamFigures, OperatorTotals, StreamInfo } from "../wire/index.js";
import type { MetricSamples, Sample } from "./snapshots.js";

const MINUTE = 60_000;
const FIVE_MINUTES = 5 * MINUTE;
const HOUR = 60 * MINUTE;

/** Sum of the series `name` whose labels include every `match` pair. */
function sum(s: Sample | undefined, name: string, match: Record<string, string>): number {
  if (!s) return 0;
  const wanted = Object.entries(match).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const [key, value] of s.values) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => key.includes(w))) total += value;
  }
  return total;
}

const delta = (a: Sample | undefined, b: Sample | undefined, name: string, match: Record<string, string>) =>
  Math.max(0, sum(b, name, match) - sum(a, name, match));
const seconds = (a: Sample | undefined, b: Sample | undefined) => (a && b ? (b.at - a.at) / 1000 : 0);

/** A quantile from the difference of two samples of a histogram (linear within a bucket). */
function quantile(a: Sample | undefined, b: Sample | undefined, name: string, match: Record<string, string>, q: number): number | null {
  if (!b) return null;
  const buckets = new Map<number, number>();
  for (const [key, value] of b.values) {
    if (!key.startsWith(`${name}_bucket{`) || !Object.entries(match).every(([k, v]) => key.includes(`${k}="${v}"`))) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (!le) continue;
    const bound = le === "+Inf" ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value - (a?.values.get(key) ?? 0));
  }
  const sorted = [...buckets].sort((x, y) => x[0] - y[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= q * total) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((q * total - prevCount) / Math.max(count - prevCount, 1e-9)) * (bound - prevBound);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** Of the bytes players matching `match` received, the share from peers. */
function share(a: Sample | undefined, b: Sample | undefined, match: Record<string, string>): number | null {
  const p2p = delta(a, b, "peercast_viewer_bytes_total", { ...match, source: "p2p" });
  const http = delta(a, b, "peercast_viewer_bytes_total", { ...match, source: "http" });
  return p2p + http > 0 ? p2p / (p2p + http) : null;
}

/**
 * Origin copies per segment between two samples, all renditions matching `match` together:
 * exact for segments that left the window (the histogram; a segment nobody fetched had no
 * viewer and does not count), else copies served over segments made.
 */
function copiesOf(a: Sample | undefined, b: Sample | undefined, match: Record<string, string>): number | null {
  const count = delta(a, b, "peercast_origin_segment_copies_count", match) - delta(a, b, "peercast_origin_segment_copies_bucket", { ...match, le: "0" });
  if (count > 0) return delta(a, b, "peercast_origin_segment_copies_sum", match) / count;
  const produced = delta(a, b, "peercast_segments_produced_total", match);
  return produced > 0 ? delta(a, b, "peercast_origin_segment_copies_served_total", match) / produced : null;
}

function stallRatioOf(a: Sample | undefined, b: Sample | undefined, match: Record<string, string>): number | null {
  const playing = delta(a, b, "peercast_viewer_playing_seconds_total", match);
  return playing > 0 ? delta(a, b, "peercast_viewer_stall_seconds_total", match) / playing : null;
}

function point(step: Sample, minute: Sample, b: Sample, stream: string): OperatorHistoryPoint {
  const sec = seconds(step, b) || 1;
  const m = { stream };
  return {
    at: b.at,
    viewers: sum(b, "peercast_viewers", m),
    shareFromPeers: share(step, b, m),
    egressBps: (delta(step, b, "peercast_http_bytes_total", m) * 8) / sec,
    savedBps: (delta(step, b, "peercast_viewer_bytes_total", { stream, source: "p2p" }) * 8) / sec,
    // Per segment and per playing time, a step of a few seconds says little: the minute before.
    copiesPerSegment: copiesOf(minute, b, m),
    stallRatio: stallRatioOf(minute, b, m),
    latencyMedianSec: quantile(minute, b, "peercast_viewer_latency_seconds", m, 0.5),
  };
}

export function streamFigures(samples: MetricSamples, info: StreamInfo, keys: OperatorStreamFigures["keys"]): OperatorStreamFigures {
  const stream = info.name;
  const now = samples.latest();
  const [minute, five, hour] = [samples.before(MINUTE), samples.before(FIVE_MINUTES), samples.before(HOUR)];
  const sec = seconds(minute, now) || 1;
  const copies: Record<string, number | null> = {};
  for (const r of info.session?.renditions ?? []) copies[r.name] = copiesOf(five, now, { stream, rendition: r.name });
  const hasTracker = now ? [...now.values.keys()].some((k) => k.startsWith("peercast_tracker_")) : false;
  return {
    name: stream,
    state: info.state,
    viewers: info.viewers,
    shareFromPeers: share(minute, now, { stream }),
    egressBps: (delta(minute, now, "peercast_http_bytes_total", { stream }) * 8) / sec,
    savedBps: (delta(minute, now, "peercast_viewer_bytes_total", { stream, source: "p2p" }) * 8) / sec,
    copiesPerSegment: copies,
    trackerPeers: hasTracker ? sum(now, "peercast_tracker_stream_peers", { stream }) : null,
    startupMedianSec: quantile(hour, now, "peercast_viewer_startup_seconds", { stream }, 0.5),
    startupP95Sec: quantile(hour, now, "peercast_viewer_startup_seconds", { stream }, 0.95),
    stallRatio: stallRatioOf(five, now, { stream }),
    latencyMedianSec: quantile(five, now, "peercast_viewer_latency_seconds", { stream }, 0.5),
    rejectedSegments: delta(hour, now, "peercast_viewer_rejected_segments_total", { stream }),
    ingest: {
      bitrateBps: sum(now, "peercast_ingest_bitrate_bps", { stream }),
      fps: sum(now, "peercast_ingest_fps", { stream }),
      transcodeSpeed: now?.values.has(`peercast_transcode_speed{stream="${stream}"}`) ? sum(now, "peercast_transcode_speed", { stream }) : null,
      reconnects: sum(now, "peercast_publisher_reconnects_total", { stream }),
      ffmpegRestarts: sum(now, "peercast_ffmpeg_restarts_total", { stream }),
    },
    keys,
  };
}

export function streamHistory(samples: MetricSamples, stream: string): OperatorHistoryPoint[] {
  const all = samples.all();
  let from = 0; // the newest sample at least a minute before the point (or the oldest)
  return all.slice(1).map((b, i) => {
    while (from + 1 < all.length && b.at - all[from + 1]!.at >= MINUTE) from++;
    return point(all[i]!, all[from]!, b, stream);
  });
}

/** Every stream together; `viewers` and `liveStreams` from the streams' own states. */
export function totals(samples: MetricSamples, streams: StreamInfo[]): OperatorTotals {
  const now = samples.latest();
  const [minute, five] = [samples.before(MINUTE), samples.before(FIVE_MINUTES)];
  const sec = seconds(minute, now) || 1;
  return {
    viewers: streams.reduce((n, s) => n + s.viewers, 0),
    liveStreams: streams.filter((s) => s.state === "live" || s.state === "reconnecting").length,
    shareFromPeers: share(minute, now, {}),
    egressBps: (delta(minute, now, "peercast_http_bytes_total", {}) * 8) / sec,
    savedBps: (delta(minute, now, "peercast_viewer_bytes_total", { source: "p2p" }) * 8) / sec,
    copiesPerSegment: copiesOf(five, now, {}),
    stallRatio: stallRatioOf(five, now, {}),
    latencyMedianSec: quantile(five, now, "peercast_viewer_latency_seconds", {}, 0.5),
  };
}
