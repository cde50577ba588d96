// The bench's results: player.json (everything) and player.md (the table a person reads).
import fs from "node:fs";
import path from "node:path";
import type { Summary } from "./figures.js";
import type { MachineInfo, PhaseLoad } from "./host-load.js";
import type { LatencyWindowResult } from "./latency-phase.js";
import type { StartMilestones, StartResult } from "./startup-phase.js";

export interface StartupFigures {
  ok: number;
  failed: number;
  /** The player's startupMs (navigation start to first `playing`). */
  startupMs: Summary;
  /** Ours: page.goto called to currentTime advancing. */
  gotoToPlayingMs: Summary;
  /** Starts that had at least one peer at their first frame. */
  withPeersAtFirstFrame: number;
  /** Medians, ms from navigation start (Resource Timing). */
  milestonesMedianMs: Record<keyof StartMilestones, number | null>;
}

export interface BenchResults {
  bench: "player-startup-latency";
  generatedAt: string;
  runtimeSec: number;
  machine: MachineInfo;
  setup: Record<string, string | number>;
  startup: {
    p2p: StartupFigures;
    http: StartupFigures;
    /** P2P median / HTTP median, and P2P median - HTTP median (ms), for both measures. */
    p2pOverHttpMedian: number | null;
    p2pMinusHttpMedianMs: number | null;
    ownMeasure: { p2pOverHttpMedian: number | null; p2pMinusHttpMedianMs: number | null };
    backgroundViewers: { peers: number[]; stalls: number; shareFromPeers: number };
    cpu: PhaseLoad;
    starts: StartResult[];
  };
  latency: {
    windows: LatencyWindowResult[];
    byMode: { mode: string; p2pMedianMs: number | null; httpMedianMs: number | null; p2pOverHttpMedian: number | null; p2pMinusHttpMedianMs: number | null }[];
  };
  /** Phases whose host CPU average was over the threshold: their timings are suspect. */
  highCpuPhases: string[];
  warnings: string[];
}

const cell = (v: number | null | undefined, unit = "") => (v === null || v === undefined ? "–" : `${v}${unit}`);

const milestones = (f: StartupFigures) => {
  const m = f.milestonesMedianMs;
  return [m.apiDoneMs, m.masterRequestedMs, m.firstSegmentRequestedMs, m.firstSegmentDoneMs].map((v) => cell(v)).join(" → ");
};

export function toMarkdown(r: BenchResults): string {
  const { p2p, http } = r.startup;
  const m = r.machine;
  const lines = [
    `# Player bench: start-up and glass-to-glass latency, P2P vs HTTP-only`,
    "",
    `${r.generatedAt}, ${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}. ` +
      `Ladder ${r.setup.ladder}, test source ${r.setup.sourceSize}, all on loopback in one network namespace, real Chromium. Run took ${r.runtimeSec} s.`,
    "",
    `## Start-up to first frame (${p2p.ok + p2p.failed} + ${http.ok + http.failed} starts, interleaved, ${r.startup.backgroundViewers.peers.length} background P2P viewers)`,
    "",
    "| | P2P | HTTP-only | P2P / HTTP | P2P − HTTP |",
    "|---|---|---|---|---|",
    `| starts ok / failed | ${p2p.ok} / ${p2p.failed} | ${http.ok} / ${http.failed} | | |`,
    `| player startupMs, median | ${cell(p2p.startupMs.median, " ms")} | ${cell(http.startupMs.median, " ms")} | ${cell(r.startup.p2pOverHttpMedian)} | ${cell(r.startup.p2pMinusHttpMedianMs, " ms")} |`,
    `| player startupMs, p95 | ${cell(p2p.startupMs.p95, " ms")} | ${cell(http.startupMs.p95, " ms")} | | |`,
    `| goto → currentTime moving, median | ${cell(p2p.gotoToPlayingMs.median, " ms")} | ${cell(http.gotoToPlayingMs.median, " ms")} | ${cell(r.startup.ownMeasure.p2pOverHttpMedian)} | ${cell(r.startup.ownMeasure.p2pMinusHttpMedianMs, " ms")} |`,
    `| goto → currentTime moving, p95 | ${cell(p2p.gotoToPlayingMs.p95, " ms")} | ${cell(http.gotoToPlayingMs.p95, " ms")} | | |`,
    `| median: API answered → master asked → 1st segment asked → 1st segment done (ms from navigation start) | ${milestones(p2p)} | ${milestones(http)} | | |`,
    `| starts with a peer at first frame | ${p2p.withPeersAtFirstFrame} | – | | |`,
    `| host CPU (avg / peak) | ${r.startup.cpu.avgPct} % / ${r.startup.cpu.peakPct} % | (same phase) | | |`,
    "",
    `## Glass-to-glass latency (block code read from the picture, every ${r.setup.latencySampleMs} ms per viewer)`,
    "",
    "| mode | transport | viewers | window | samples (frozen / unusable) | median | p95 | player's own (PDT) median | share from peers | origin copies / segment | stalls (ms) | host CPU avg / peak |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...r.latency.windows.map(
      (w) =>
        `| ${w.mode} | ${w.transport} | ${w.viewers} | ${w.windowSec} s | ${w.samples.valid} (${w.samples.frozen} / ${Object.values(w.samples.invalid).reduce((a, b) => a + b, 0)}) | ${cell(w.latencyMs.median, " ms")} | ${cell(w.latencyMs.p95, " ms")} | ${cell(w.playerReportedLatencyMs.median, " ms")} | ` +
        `${Math.round(w.shareFromPeers * 100)} % | ${cell(w.originCopiesPerSegment)} | ${w.stalls} (${w.stallMs}) | ${w.cpu.avgPct} % / ${w.cpu.peakPct} %${w.cpu.high ? " ⚠" : ""} |`,
    ),
    "",
    "| mode | P2P median | HTTP median | P2P / HTTP | P2P − HTTP |",
    "|---|---|---|---|---|",
    ...r.latency.byMode.map((b) => `| ${b.mode} | ${cell(b.p2pMedianMs, " ms")} | ${cell(b.httpMedianMs, " ms")} | ${cell(b.p2pOverHttpMedian)} | ${cell(b.p2pMinusHttpMedianMs, " ms")} |`),
    "",
  ];
  const phases: [string, PhaseLoad][] = [["start-up", r.startup.cpu], ...r.latency.windows.map((w): [string, PhaseLoad] => [`latency ${w.mode}/${w.transport}`, w.cpu])];
  const groups = [...new Set(phases.flatMap(([, l]) => Object.keys(l.byGroupPct)))] as (keyof PhaseLoad["byGroupPct"])[];
  lines.push(
    `## Host CPU per phase (% of all ${m.cores} cores; by process group)`,
    "",
    `| phase | host avg | peak 1 s | ${groups.join(" | ")} |`,
    `|---|---|---|${groups.map(() => "---|").join("")}`,
    ...phases.map(([name, l]) => `| ${name} | ${l.avgPct} %${l.high ? " ⚠" : ""} | ${l.peakPct} % | ${groups.map((g) => cell(l.byGroupPct[g])).join(" | ")} |`),
    "",
  );
  if (r.highCpuPhases.length) lines.push(`**Host CPU over 85 % on average in:** ${r.highCpuPhases.join(", ")}. Timings there measure the machine as much as the player.`, "");
  if (r.warnings.length) lines.push("Warnings:", "", ...r.warnings.map((w) => `- ${w}`), "");
  return lines.join("\n");
}

export function writeResults(dir: string, r: BenchResults): { json: string; md: string } {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, "player.json");
  const md = path.join(dir, "player.md");
  fs.writeFileSync(json, JSON.stringify(r, null, 2) + "\n");
  fs.writeFileSync(md, toMarkdown(r));
  return { json, md };
}
