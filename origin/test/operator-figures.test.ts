// Dashboard figures from samples of a real prom-client registry: rates, shares and quantiles
// are differences between samples, and the text parser reads what prom-client writes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createMetrics } from "../src/metrics.js";
import { streamFigures, streamHistory, totals } from "../src/operator/figures.js";
import { MetricSamples } from "../src/operator/snapshots.js";
import { parsePromText } from "../src/operator/prom-text.js";
import type { StreamInfo } from "../src/wire/index.js";

const info: StreamInfo = {
  name: "main",
  state: "live",
  viewers: 2,
  session: {
    id: "s1",
    startedAt: "",
    renditions: [{ name: "360p", width: 640, height: 360, fps: 30, videoBitrateKbps: 800, audioBitrateKbps: 128 }],
    masterPlaylist: "",
    swarmId: "main:s1",
    segmentDurationSec: 2,
  },
};

test("parsePromText reads labels, escapes and skips comments", () => {
  const values = new Map<string, number>();
  parsePromText('# HELP x y\nx_total{b="2",a="say \\"hi\\""} 3\nplain 1.5\nbad line\n', values);
  assert.deepEqual(
    [...values],
    [
      ['x_total{a="say \\"hi\\"",b="2"}', 3],
      ["plain", 1.5],
    ],
  );
});

test("figures are differences between samples of the registry", async () => {
  const m = createMetrics();
  const samples = new MetricSamples(m.registry, { intervalMs: 5000, trackerMetricsUrl: undefined });
  await samples.take();
  // One minute of traffic: 3 MB from peers, 1 MB over HTTP; 1 MB of origin egress.
  m.viewerBytes.inc({ stream: "main", source: "p2p" }, 3_000_000);
  m.viewerBytes.inc({ stream: "main", source: "http" }, 1_000_000);
  m.httpBytes.inc({ kind: "segment", stream: "main" }, 1_000_000);
  m.httpBytes.inc({ kind: "segment", stream: "other" }, 5_000_000);
  for (const s of [1, 2, 2, 3, 8]) m.viewerStartup.observe({ stream: "main" }, s);
  m.segmentsProduced.inc({ stream: "main", rendition: "360p" }, 10);
  m.segmentFetches.inc({ stream: "main", rendition: "360p" }, 14);
  m.segmentCopiesServed.inc({ stream: "main", rendition: "360p" }, 13); // one of the 14 a rest of a segment
  m.viewerPlayingSeconds.inc({ stream: "main" }, 100);
  m.viewerStallSeconds.inc({ stream: "main" }, 1);
  await samples.take();
  // Pretend the second sample came a minute after the first.
  const all = samples.all();
  all[0]!.at = all[1]!.at - 60_000;

  const f = streamFigures(samples, info, []);
  assert.equal(f.shareFromPeers, 0.75);
  assert.equal(Math.round(f.egressBps), Math.round((1_000_000 * 8) / 60));
  assert.equal(Math.round(f.savedBps), Math.round((3_000_000 * 8) / 60));
  assert.equal(f.copiesPerSegment["360p"], 1.3);
  assert.equal(f.stallRatio, 0.01);
  // Median of 1, 2, 2, 3, 8 in buckets [..., 1, 2, 3, 5, 8, ...]: within the (1, 2] bucket.
  assert.ok(f.startupMedianSec! > 1 && f.startupMedianSec! <= 2, String(f.startupMedianSec));
  assert.ok(f.startupP95Sec! > 5 && f.startupP95Sec! <= 8, String(f.startupP95Sec));
  assert.equal(f.trackerPeers, null, "no tracker metrics configured");
  assert.equal(f.latencyMedianSec, null, "no latency reported yet");
  const [point] = streamHistory(samples, "main");
  assert.deepEqual([point!.shareFromPeers, point!.copiesPerSegment, point!.stallRatio, point!.latencyMedianSec], [0.75, 1.3, 0.01, null]);

  // The whole server: every stream's egress, the viewers the streams report.
  const other: StreamInfo = { name: "other", state: "offline", viewers: 0 };
  const all2 = totals(samples, [info, other]);
  assert.deepEqual(
    { ...all2, egressBps: Math.round(all2.egressBps), savedBps: Math.round(all2.savedBps) },
    {
      viewers: 2,
      liveStreams: 1,
      shareFromPeers: 0.75,
      egressBps: Math.round((6_000_000 * 8) / 60),
      savedBps: Math.round((3_000_000 * 8) / 60),
      copiesPerSegment: 1.3,
      stallRatio: 0.01,
      latencyMedianSec: null,
    },
  );
});

test("copies per segment count the segments someone watched: one nobody fetched had no viewer", async () => {
  const m = createMetrics();
  const samples = new MetricSamples(m.registry, { intervalMs: 5000, trackerMetricsUrl: undefined });
  await samples.take();
  for (const copies of [0, 0, 0, 1, 1.5]) m.segmentCopies.observe({ stream: "main", rendition: "360p" }, copies);
  await samples.take();
  assert.equal(streamFigures(samples, info, []).copiesPerSegment["360p"], 1.25);
  assert.equal(totals(samples, [info]).copiesPerSegment, 1.25);
});
