// The run's report: every phase, P2P against HTTP-only per scenario and mode (medians over
// rounds, busy-machine phases left out), the self-checks, and the files it is written to.
import fs from "node:fs";
import path from "node:path";
import { HIGH_CPU_PCT, type MachineInfo } from "../host-load.js";
import type { LinkProbe } from "../net/link-probes.js";
import type { Options } from "../options.js";
import { round } from "./figures.js";
import type { PhaseResult } from "./phase-figures.js";
import { plotSvg } from "./plot.js";
import { renderMarkdown } from "./markdown.js";

export interface Check {
  name: string;
  phase: string;
  ok: boolean;
  detail: string;
}

/** One access profile, scenario and mode: P2P beside HTTP-only, medians over the rounds that count. */
export interface Comparison {
  net: string;
  scenario: string;
  mode: string;
  /** Rounds left out of the medians for a busy host (each transport). */
  leftOut: { p2p: number; http: number };
  /** Every round of a transport had a busy host: its figures are from those rounds. */
  allRoundsBusy: boolean;
  p2p: Figures;
  http: Figures;
  ratios: { startupMedian: number | null; startupDiffMs: number | null; latencyMedian: number | null; stallRatioDiffPoints: number | null };
}

interface Figures {
  copiesPerSegment: Record<string, number | null>;
  shareFromPeers: number | null;
  shareBound: number | null;
  /** Members per rendition at the end of the last round that counts. */
  audienceByRendition: Record<string, number>;
  startupMedianMs: number | null;
  startupP95Ms: number | null;
  starts: number;
  stallRatio: number | null;
  stalls: number;
  latencyMedianMs: number | null;
  latencyP95Ms: number | null;
  lightPeerLatencyMedianMs: number | null;
  originEgressMbps: number | null;
  /** Emulated links: the fluid bound on copies, and the share of member pairs that connected. */
  boundCopies: number | null;
  pairsConnectedPct: number | null;
}

export interface RunReport {
  tool: "peercast-loadtest";
  generatedAt: string;
  runtimeSec: number;
  machine: MachineInfo;
  target: { originUrl: string; local: boolean; stream: string; segmentSec: number };
  options: Options;
  viewerCapacity: { max: number | null; source: string };
  comparisons: Comparison[];
  checks: Check[];
  phases: PhaseResult[];
  /** Emulated links: each access profile measured before the phases. */
  linkProbes: LinkProbe[];
  plots: string[];
  warnings: string[];
}

/** summary.json: one row per phase, the figures other tools and CI read (documented in docs/load-test.md). */
export interface SummaryRow {
  profile: string;
  mode: string;
  transport: string;
  round: number;
  viewers: number;
  lightPeers: number;
  rendition: string;
  bitrateKbps: number | null;
  copiesPerSegment: number | null;
  boundCopies: number | null;
  sharePct: number;
  latencyMedianS: number | null;
  latencyP95S: number | null;
  stallRatioPct: number;
  startupMedianMs: number | null;
  pairsConnectedPct: number | null;
  hostCpuPct: number;
}

/** Median across rounds, unrounded (shares and ratios are fractions). */
function med(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return round(v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2, 4);
}

function figures(phases: PhaseResult[]): Figures {
  const renditions = [...new Set(phases.flatMap((p) => Object.keys(p.offload.copiesPerSegment)))];
  const startMs = phases.flatMap((p) => (p.startup.probesMs.n ? [p.startup.probesMs] : []));
  return {
    copiesPerSegment: Object.fromEntries(renditions.map((r) => [r, med(phases.map((p) => p.offload.copiesPerSegment[r] ?? null))])),
    shareFromPeers: med(phases.map((p) => p.offload.shareFromPeers)),
    shareBound: med(phases.map((p) => p.offload.shareBound)),
    audienceByRendition: phases.at(-1)?.audience.byRendition ?? {},
    startupMedianMs: med(startMs.map((s) => s.median)),
    startupP95Ms: med(startMs.map((s) => s.p95)),
    starts: phases.reduce((n, p) => n + p.startup.probesMs.n, 0),
    stallRatio: med(phases.map((p) => p.stalls.ratio)),
    stalls: phases.reduce((n, p) => n + p.stalls.count, 0),
    latencyMedianMs: med(phases.map((p) => p.latency.glassToGlassMs.median)),
    latencyP95Ms: med(phases.map((p) => p.latency.glassToGlassMs.p95)),
    lightPeerLatencyMedianMs: med(phases.map((p) => p.latency.lightPeersMs.median)),
    originEgressMbps: med(phases.map((p) => p.cost.originEgressMbps)),
    boundCopies: med(phases.map((p) => p.net?.boundCopies ?? null)),
    pairsConnectedPct: med(phases.map((p) => p.net?.pairsConnectedPct ?? null)),
  };
}

export function compare(phases: PhaseResult[]): Comparison[] {
  const keys = [...new Set(phases.map((p) => `${p.spec.net}|${p.spec.scenario}|${p.spec.mode}`))];
  return keys.map((key) => {
    const [net, scenario, mode] = key.split("|") as [string, string, string];
    const mine = phases.filter((p) => p.spec.net === net && p.spec.scenario === scenario && p.spec.mode === mode);
    const pick = (t: "p2p" | "http") => {
      const all = mine.filter((p) => p.spec.transport === t);
      const calm = all.filter((p) => !p.cost.host.high);
      // Every round busy: they are all the figures there are (and the report flags them).
      return { used: calm.length ? calm : all, leftOut: all.length - calm.length, allBusy: calm.length === 0 && all.length > 0 };
    };
    const [p2p, http] = [pick("p2p"), pick("http")];
    const [a, b] = [figures(p2p.used), figures(http.used)];
    const ratio = (x: number | null, y: number | null) => (x === null || y === null || y === 0 ? null : round(x / y, 2));
    return {
      net,
      scenario,
      mode,
      leftOut: { p2p: p2p.allBusy ? 0 : p2p.leftOut, http: http.allBusy ? 0 : http.leftOut },
      allRoundsBusy: p2p.allBusy || http.allBusy,
      p2p: a,
      http: b,
      ratios: {
        startupMedian: ratio(a.startupMedianMs, b.startupMedianMs),
        startupDiffMs: a.startupMedianMs === null || b.startupMedianMs === null ? null : round(a.startupMedianMs - b.startupMedianMs),
        latencyMedian: ratio(a.latencyMedianMs, b.latencyMedianMs),
        stallRatioDiffPoints: a.stallRatio === null || b.stallRatio === null ? null : round(100 * (a.stallRatio - b.stallRatio), 2),
      },
    };
  });
}

/** What makes a toy report impossible: counts that must agree, bounds that must hold, data that must be there. */
export function selfChecks(phases: PhaseResult[], segmentSec: number): Check[] {
  const checks: Check[] = [];
  for (const p of phases) {
    const c = (name: string, ok: boolean, detail: string) => checks.push({ name, phase: p.label, ok, detail });
    const r = p.reconcile;
    c(
      "HTTP bytes reconcile with the origin (within 2 %)",
      r.originBytes > 0 && r.httpDiffPct !== null && Math.abs(r.httpDiffPct) <= 2,
      `members ${r.clientHttpBytes} B + ${r.abandonedHttpBytes} B left unread by aborted downloads, origin ${r.originBytes} B (${r.httpDiffPct} %)`,
    );
    if (p.spec.transport === "http") {
      c("HTTP-only share from peers is 0", r.p2pReceivedBytes === 0 && p.offload.shareFromPeers === 0, `${r.p2pReceivedBytes} B from peers`);
    } else {
      c(
        "peer bytes received reconcile with bytes sent (within 2 %)",
        r.p2pReceivedBytes > 0 && r.p2pDiffPct !== null && Math.abs(r.p2pDiffPct) <= 2,
        `received ${r.p2pReceivedBytes} B, sent ${r.p2pUploadedBytes} B (${r.p2pDiffPct} %)`,
      );
    }
    const renditions = Object.entries(p.offload.copiesPerSegment);
    if (renditions.length === 0) c("origin copies per segment >= 1.0", false, "no segment was counted in the window (phase too short?)");
    for (const [rendition, copies] of renditions) {
      c(`origin copies per segment >= 1.0 (${rendition})`, copies !== null && copies >= 1, `${copies} over ${p.offload.segmentsCounted[rendition]} segments`);
    }
    const refused = p.audience.refusedByTracker;
    if (refused !== null) c("the tracker refused no member's connection", refused === 0, `${refused} refused for too many connections from one address`);
    // Glass-to-glass from the picture when there are viewers; the light peers' playhead otherwise.
    const latency = p.audience.chromium > 0 ? p.latency.glassToGlassMs.median : p.latency.lightPeersMs.median;
    c(
      "latency is more than one segment",
      latency !== null && latency > segmentSec * 1000,
      `median ${latency} ms (${p.audience.chromium > 0 ? "block code" : "light peers"}), segment ${segmentSec * 1000} ms`,
    );
  }
  return checks;
}

/** The emulated links were what their profiles say, and the switch kept its schedule. */
export function linkChecks(probes: LinkProbe[], phases: PhaseResult[]): Check[] {
  const checks: Check[] = probes.map((p) => ({
    name: `the ${p.profile} link is what its profile says (${p.path})`,
    phase: "link probes",
    ok: p.problems.length === 0,
    detail: p.problems.length ? p.problems.join("; ") : `rtt ${p.result.rttMs.median} ms, up ${p.result.upKbps} / down ${p.result.downKbps} kbit/s`,
  }));
  for (const p of phases) {
    if (!p.net) continue;
    const lateness = p.net.links.latenessP99Ms;
    checks.push({
      name: "the network emulator kept up (lateness p99 <= 5 ms)",
      phase: p.label,
      ok: lateness <= 5,
      detail: `p99 ${lateness} ms, switch CPU ${p.net.links.switchCpuPctOfCore} % of a core`,
    });
  }
  return checks;
}

export function summaryRows(phases: PhaseResult[], rendition: string): SummaryRow[] {
  return phases.map((p) => {
    const copies = Object.values(p.offload.copiesPerSegment).filter((c): c is number => c !== null);
    return {
      profile: p.spec.net,
      mode: p.spec.mode,
      transport: p.spec.transport,
      round: p.spec.round,
      viewers: p.audience.chromium,
      lightPeers: p.audience.light,
      rendition,
      bitrateKbps: p.net?.bitrateKbps ?? null,
      // One rendition pinned: its figure; ABR: the mean over renditions watched.
      copiesPerSegment: copies.length ? round(copies.reduce((a, b) => a + b, 0) / copies.length, 2) : null,
      boundCopies: p.net?.boundCopies ?? null,
      sharePct: round(100 * p.offload.shareFromPeers, 1),
      latencyMedianS: p.latency.glassToGlassMs.median === null ? null : round(p.latency.glassToGlassMs.median / 1000, 2),
      latencyP95S: p.latency.glassToGlassMs.p95 === null ? null : round(p.latency.glassToGlassMs.p95 / 1000, 2),
      stallRatioPct: round(100 * p.stalls.ratio, 2),
      startupMedianMs: p.startup.probesMs.median,
      pairsConnectedPct: p.net?.pairsConnectedPct ?? null,
      hostCpuPct: p.cost.host.avgPct,
    };
  });
}

/** Writes summary.json, report.json, report.md and one SVG plot per access profile, scenario and mode. */
export function writeReport(dir: string, report: Omit<RunReport, "plots">): RunReport {
  fs.mkdirSync(dir, { recursive: true });
  const plots: string[] = [];
  for (const c of report.comparisons) {
    const file = `plot-${c.net === "lan" ? "" : `${c.net}-`}${c.scenario}-${c.mode}.svg`;
    const phases = report.phases.filter((p) => p.spec.net === c.net && p.spec.scenario === c.scenario && p.spec.mode === c.mode);
    fs.writeFileSync(
      path.join(dir, file),
      plotSvg(`${c.net === "lan" ? "" : `${c.net}, `}${c.scenario}, ${c.mode}: P2P (solid) and HTTP-only (dashed)`, phases),
    );
    plots.push(file);
  }
  const full: RunReport = { ...report, plots };
  fs.writeFileSync(path.join(dir, "summary.json"), JSON.stringify({ phases: summaryRows(report.phases, report.options.rendition) }, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify(full, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "report.md"), renderMarkdown(full));
  return full;
}

export { HIGH_CPU_PCT };
