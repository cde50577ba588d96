// report.md: the comparison first (what an operator wants to know), then the checks, then
// every phase in detail.
import { HIGH_CPU_PCT } from "../host-load.js";
import { ABR } from "../options.js";
import type { PhaseResult } from "./phase-figures.js";
import type { Comparison, RunReport } from "./report.js";

const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)} ms`);
const pct = (v: number | null, digits = 0) => (v === null ? "-" : `${(100 * v).toFixed(digits)} %`);
const num = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? "-" : v.toFixed(digits));
/** A figure per rendition, e.g. "1.05 (360p), 1.10 (240p)". */
const perRendition = <T>(c: Record<string, T>, show: (v: T) => string) =>
  Object.entries(c)
    .map(([r, v]) => `${show(v)} (${r})`)
    .join(", ") || "-";
const copies = (c: Record<string, number | null>) => perRendition(c, num);
const counts = (c: Record<string, number>) => perRendition(c, String);
/** The after-peer fetches' split by how the try from a peer ended, e.g. "cut 0.50, busy 0.20; 420 ms ahead". */
const tryEnds = (a: PhaseResult["offload"]["lightAfterPeer"]) =>
  a && a.aheadMs !== null
    ? ` [${Object.entries(a.ends)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${num(v)}`)
        .join(", ")}; ${ms(a.aheadMs)} ahead]`
    : "";
const causes = (o: PhaseResult["offload"]) => {
  const c = o.lightFetchesPerSegment;
  return c ? `${num(c.elected)} (${ms(o.lightElectedWaitMs)}) + ${num(c.urgent)} + ${num(c.afterPeer)}${tryEnds(o.lightAfterPeer)} + ${num(c.alone)}` : "-";
};

function comparisonTable(c: Comparison): string[] {
  const row = (name: string, p2p: string, http: string, ratio = "") => `| ${name} | ${p2p} | ${http} | ${ratio} |`;
  const left =
    (c.leftOut.p2p + c.leftOut.http ? ` (${c.leftOut.p2p} P2P and ${c.leftOut.http} HTTP-only round(s) left out: host CPU above ${HIGH_CPU_PCT} %)` : "") +
    (c.allRoundsBusy ? ` (BUSY HOST: every round of a transport ran above ${HIGH_CPU_PCT} % host CPU)` : "");
  const emulated = c.net !== "lan";
  return [
    `### ${emulated ? `${c.net}, ` : ""}${c.scenario}, ${c.mode}${left}`,
    "",
    "| figure | P2P | HTTP-only | P2P vs HTTP-only |",
    "|---|---|---|---|",
    row(
      `origin copies per segment (bound ${emulated ? `${num(c.p2p.boundCopies)}: max(1, N - uplinks / bitrate)` : "1.0"})`,
      copies(c.p2p.copiesPerSegment),
      copies(c.http.copiesPerSegment),
    ),
    ...(emulated ? [row("member pairs that connected over WebRTC", c.p2p.pairsConnectedPct === null ? "-" : `${c.p2p.pairsConnectedPct} %`, "-")] : []),
    row(
      "share of segment bytes from peers (bound: sum over renditions of (N_r - 1) / N)",
      `${pct(c.p2p.shareFromPeers)} (${pct(c.p2p.shareBound)})`,
      pct(c.http.shareFromPeers),
    ),
    row("audience by rendition, end of phase (N_r)", counts(c.p2p.audienceByRendition), counts(c.http.audienceByRendition)),
    row(
      "origin egress",
      `${num(c.p2p.originEgressMbps)} Mbit/s`,
      `${num(c.http.originEgressMbps)} Mbit/s`,
      c.p2p.originEgressMbps !== null && c.http.originEgressMbps ? `${num(c.p2p.originEgressMbps / c.http.originEgressMbps)}x` : "",
    ),
    row(
      `start-up to first frame, median (p95)`,
      `${ms(c.p2p.startupMedianMs)} (${ms(c.p2p.startupP95Ms)}), ${c.p2p.starts} starts`,
      `${ms(c.http.startupMedianMs)} (${ms(c.http.startupP95Ms)}), ${c.http.starts} starts`,
      `${num(c.ratios.startupMedian)}x (${c.ratios.startupDiffMs === null ? "-" : `${c.ratios.startupDiffMs > 0 ? "+" : ""}${c.ratios.startupDiffMs} ms`})`,
    ),
    row(
      "glass-to-glass latency, median (p95)",
      `${ms(c.p2p.latencyMedianMs)} (${ms(c.p2p.latencyP95Ms)})`,
      `${ms(c.http.latencyMedianMs)} (${ms(c.http.latencyP95Ms)})`,
      `${num(c.ratios.latencyMedian)}x`,
    ),
    row("light peers' latency (playhead vs PROGRAM-DATE-TIME), median", ms(c.p2p.lightPeerLatencyMedianMs), ms(c.http.lightPeerLatencyMedianMs)),
    row(
      "stall ratio (stalls)",
      `${pct(c.p2p.stallRatio, 2)} (${c.p2p.stalls})`,
      `${pct(c.http.stallRatio, 2)} (${c.http.stalls})`,
      c.ratios.stallRatioDiffPoints === null ? "" : `${c.ratios.stallRatioDiffPoints > 0 ? "+" : ""}${c.ratios.stallRatioDiffPoints} points`,
    ),
    "",
  ];
}

function linkRows(r: RunReport): string[] {
  if (r.linkProbes.length === 0 && !r.phases.some((p) => p.net)) return [];
  const kbps = (v: number | null) => (v === null ? "-" : `${(v / 1000).toFixed(2)} Mbit/s`);
  return [
    "## Emulated links",
    "",
    "Each access profile, probed before the phases (expected in brackets): round trip, rate each way, loss each way.",
    "",
    "| profile | path | round trip | up | down | loss up / down |",
    "|---|---|---|---|---|---|",
    ...r.linkProbes.map(
      ({ profile, path, result: p }) =>
        `| ${profile} | ${path} | ${num(p.rttMs.median, 1)} ms (${num(p.expected.rttMs, 1)}) | ${kbps(p.upKbps)} (${kbps(p.expected.upKbps)}) | ${kbps(p.downKbps)} (${kbps(p.expected.downKbps)}) | ${num(p.lossUpPct, 1)} / ${num(p.lossDownPct, 1)} % |`,
    ),
    "",
    "Per phase, the pairs of members that connected (and, for each member, its access link and the members it connected to), the switch's counters (all links): frames, lost to the profile's loss, dropped from full queues, the longest wait in a queue, how late the switch released frames (p99) and its CPU.",
    "",
    "| phase | bitrate | bound copies | pairs connected | frames | lost | queue drops | longest queue | lateness p99 | switch CPU |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...r.phases.flatMap((p) => {
      const n = p.net;
      return n
        ? [
            `| ${p.label} | ${n.bitrateKbps ?? "-"} kbit/s | ${num(n.boundCopies)} | ${n.pairsConnectedPct === null ? "-" : `${n.pairsConnectedPct} %`}${n.reach ? ` (${n.reach.map((m) => `${m.access} ${m.peersMet}`).join(", ")})` : ""} | ${n.links.frames} | ${n.links.lostFrames} | ${n.links.queueDrops} | ${n.links.maxQueueMs} ms | ${n.links.latenessP99Ms} ms | ${num(n.links.switchCpuPctOfCore, 1)} % |`,
          ]
        : [];
    }),
    "",
  ];
}

function phaseRows(phases: PhaseResult[]): string[] {
  const head =
    "| phase | audience | copies/segment | light peers' origin fetches/segment: elected (mean wait) + urgent + after a peer + alone | share | start-up median (n, failed) | stalls (s, ratio; in warm-up) | latency median/p95 | switches | errors | rejected | egress | origin CPU / RSS | tracker CPU / RSS / msg/s | host CPU |";
  return [
    head,
    "|" + "---|".repeat(15),
    ...phases.map((p) => {
      const a = p.audience;
      const c = p.cost;
      return `| ${p.label} | ${a.chromium} Chromium + ${a.light} light${a.lightJoined > a.light ? ` (${a.lightJoined} joined)` : ""}${a.lightPeerHosts > 1 ? ` in ${a.lightPeerHosts} processes` : ""}${a.hostile ? ` + ${a.hostile} hostile` : ""} | ${copies(p.offload.copiesPerSegment)} | ${causes(p.offload)} | ${pct(p.offload.shareFromPeers)} | ${ms(p.startup.probesMs.median)} (${p.startup.probesMs.n}, ${p.startup.probesFailed}) | ${p.stalls.count} (${p.stalls.seconds} s, ${pct(p.stalls.ratio, 2)}; ${p.stalls.inWarmup}) | ${ms(p.latency.glassToGlassMs.median)} / ${ms(p.latency.glassToGlassMs.p95)} | ${p.renditionSwitches} | ${p.errors.length} | ${p.rejectedSegments} | ${num(c.originEgressMbps)} Mbit/s | ${num(c.originCpuPctOfCore, 1)} % / ${num(c.originRssMiB, 0)} MiB | ${num(c.trackerCpuPctOfCore, 1)} % / ${num(c.trackerRssMiB, 0)} MiB / ${c.trackerMessagesPerSec} | ${c.host.avgPct} %${c.host.high ? " HIGH" : ""} |`;
    }),
  ];
}

export function renderMarkdown(r: RunReport): string {
  const m = r.machine;
  const failed = r.checks.filter((c) => !c.ok);
  const lines = [
    `# Peercast load test, ${r.generatedAt}`,
    "",
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}. Target: ${r.target.local ? "a system of its own on loopback (origin with its test source, tracker)" : r.target.originUrl}, stream \`${r.target.stream}\`, ${r.target.segmentSec} s segments, ${r.options.rendition === ABR ? "ABR on (Chromium viewers choose, light peers take the renditions in turn)" : `everyone on rendition \`${r.options.rendition}\``}.`,
    `Audience per phase: ${r.options.viewers} Chromium viewer(s) (machine capacity: ${r.viewerCapacity.max ?? "not measured"}, ${r.viewerCapacity.source}) and ${r.options.peers} light peer(s); ${r.options.duration} s phases, the first ${r.options.warmup} s left out; ${r.options.rounds} round(s). Run took ${r.runtimeSec} s.`,
    "",
    "## P2P against HTTP-only",
    "",
    ...r.comparisons.flatMap(comparisonTable),
    ...r.plots.map((p) => `![${p}](${p})`),
    "",
    `## Self-checks: ${failed.length ? `${failed.length} FAILED` : "all passed"}`,
    "",
    ...r.checks.map((c) => `- ${c.ok ? "ok" : "**FAILED**"}: ${c.name}, ${c.phase}: ${c.detail}`),
    "",
    ...linkRows(r),
    "## Phases",
    "",
    ...phaseRows(r.phases),
    "",
    ...r.phases.flatMap((p) =>
      p.events.length ? [`- ${p.label}: ${p.events.map((e) => `+${e.tSec} s ${e.what}${e.error ? ` (FAILED: ${e.error})` : ""}`).join("; ")}`] : [],
    ),
    ...(r.warnings.length ? ["", "## Warnings", "", ...r.warnings.map((w) => `- ${w}`)] : []),
    "",
  ];
  return lines.join("\n");
}
