// `npm run bench` (player): in one run, side by side, P2P against HTTP-only (the same player
// with P2P turned off by the viewer):
//   1. start-up time to first frame, interleaved starts, 2 background P2P viewers playing;
//   2. glass-to-glass latency read from the test source's block code, per latency mode,
//      with share from peers, origin copies per segment and stalls;
// with the machine and its CPU load per phase. Writes bench/results/player.json and .md.
// Run it inside a network namespace with only loopback (`npm run bench` at the root does).
// Knobs (env): BENCH_START_PAIRS (20), BENCH_WARMUP_PAIRS (1), BENCH_LATENCY_SEC (45),
// BENCH_HTTP_VIEWERS (1), BENCH_LADDER ("360p:640x360:800"), BENCH_SOURCE_SIZE ("640x360").
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { launchChromium, waitForSegment, waitLive } from "@peercast/origin/testing";
import type { LatencyMode, StatsBeacon } from "@peercast/origin/wire";
import { startSystem, type System } from "../test/support/system.js";
import { openViewer, type Viewer } from "../test/support/viewers.js";
import { ratio, round, summarize } from "./figures.js";
import { formatLoad, HIGH_CPU_PCT, HostLoad, machineInfo } from "./host-load.js";
import { measureLatencyWindow, setLatencyMode, type LatencyWindowResult } from "./latency-phase.js";
import { writeResults, type BenchResults, type StartupFigures } from "./report.js";
import { runStarts, type StartMilestones, type StartResult, type Transport } from "./startup-phase.js";

const env = process.env;
const SETUP = {
  /** Interleaved pairs of starts (one P2P, one HTTP-only each). */
  startPairs: Number(env.BENCH_START_PAIRS ?? 20),
  warmupPairs: Number(env.BENCH_WARMUP_PAIRS ?? 1),
  backgroundViewers: 2,
  latencyWindowSec: Number(env.BENCH_LATENCY_SEC ?? 45),
  latencySampleMs: 500,
  p2pViewers: 3,
  // 1 as the brief; 3 gives HTTP-only the same decoding load as the P2P windows.
  httpViewers: Number(env.BENCH_HTTP_VIEWERS ?? 1),
  // One rendition, as wide as the source: 8 px squares, read cleanly at 800 kbit/s.
  ladder: env.BENCH_LADDER ?? "360p:640x360:800",
  sourceSize: env.BENCH_SOURCE_SIZE ?? "640x360",
};
const STREAM = "main";
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.resolve(here, "../../bench/results");

const began = Date.now();
const log = (line: string) => console.log(`[bench +${String(Math.round((Date.now() - began) / 1000)).padStart(3)} s] ${line}`);

const median = (starts: StartResult[], key: keyof StartMilestones) =>
  summarize(starts.flatMap((s) => (s.milestones?.[key] === undefined ? [] : [s.milestones[key]]))).median;

function startupFigures(starts: StartResult[], transport: Transport): StartupFigures {
  const mine = starts.filter((s) => s.transport === transport);
  const ok = mine.filter((s) => s.ok);
  return {
    ok: ok.length,
    failed: mine.length - ok.length,
    startupMs: summarize(ok.map((s) => s.startupMs!)),
    gotoToPlayingMs: summarize(ok.map((s) => s.gotoToPlayingMs!)),
    withPeersAtFirstFrame: ok.filter((s) => (s.peers ?? 0) > 0).length,
    milestonesMedianMs: {
      apiDoneMs: median(ok, "apiDoneMs"),
      masterRequestedMs: median(ok, "masterRequestedMs"),
      firstSegmentRequestedMs: median(ok, "firstSegmentRequestedMs"),
      firstSegmentDoneMs: median(ok, "firstSegmentDoneMs"),
    },
  };
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a - b));
const share = (s0: StatsBeacon[], s1: StatsBeacon[]) => {
  const total = (l: StatsBeacon[], k: "p2pBytes" | "httpBytes") => l.reduce((n, s) => n + s[k], 0);
  const p2p = total(s1, "p2pBytes") - total(s0, "p2pBytes");
  const http = total(s1, "httpBytes") - total(s0, "httpBytes");
  return p2p + http > 0 ? round(p2p / (p2p + http), 3) : 0;
};

async function main(): Promise<void> {
  const machine = machineInfo();
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB, ${machine.os}, Node ${machine.node}`);
  log(`setup: ${JSON.stringify(SETUP)}`);
  const load = new HostLoad();
  const warnings: string[] = [];
  let system: System | undefined;
  let browser: Browser | undefined;
  const background: Viewer[] = [];
  try {
    system = await startSystem({
      env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: SETUP.sourceSize, PEERCAST_LADDER: SETUP.ladder },
    });
    browser = await launchChromium({ webrtc: true });
    const http = system.origin.http;
    const url = `${http}/watch/${STREAM}`;
    await setLatencyMode(system, "balanced");
    const session = (await waitLive(http, STREAM)).session!.id;
    // Starts measured against a playlist as long as a steady stream has, not a go-live one.
    await waitForSegment(http, STREAM, session, SETUP.ladder.split(":")[0]!, 6);
    log(`system up: ${http}, session ${session}`);

    // Phase 1: start-up.
    for (let i = 0; i < SETUP.backgroundViewers; i++) background.push(await openViewer(browser, url));
    await Promise.all(background.map((v) => v.playsOn(3)));
    const bg0 = await Promise.all(background.map((v) => v.stats()));
    log(`${background.length} background P2P viewers playing; ${SETUP.startPairs} pairs of starts (+${SETUP.warmupPairs} warm-up)`);
    const endStartupLoad = load.phase();
    const starts = await runStarts({ browser, url, pairs: SETUP.startPairs, warmupPairs: SETUP.warmupPairs, log });
    const startupCpu = endStartupLoad();
    const bg1 = await Promise.all(background.map((v) => v.stats()));
    await Promise.all(background.splice(0).map((v) => v.close()));
    const p2pStart = startupFigures(starts, "p2p");
    const httpStart = startupFigures(starts, "http");
    log(`start-up: P2P median ${p2pStart.startupMs.median} ms p95 ${p2pStart.startupMs.p95} | HTTP median ${httpStart.startupMs.median} ms p95 ${httpStart.startupMs.p95} | CPU ${formatLoad(startupCpu)}`);

    // Phase 2: latency, each mode P2P then HTTP-only, fresh pages for each window.
    const windows: LatencyWindowResult[] = [];
    for (const mode of ["balanced", "low"] as LatencyMode[]) {
      for (const transport of ["p2p", "http"] as Transport[]) {
        const viewers = transport === "p2p" ? SETUP.p2pViewers : SETUP.httpViewers;
        log(`latency ${mode}/${transport}: ${viewers} viewer(s), ${SETUP.latencyWindowSec} s window`);
        const w = await measureLatencyWindow({
          browser, system, mode, transport, viewers,
          windowSec: SETUP.latencyWindowSec,
          sampleMs: SETUP.latencySampleMs,
          load,
          showSamples: windows.length === 0 ? 4 : 1,
          log,
        });
        windows.push(w);
        const bad = Object.entries(w.samples.invalid).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
        log(`  => median ${w.latencyMs.median} ms, p95 ${w.latencyMs.p95} ms (player's own ${w.playerReportedLatencyMs.median} ms), share ${Math.round(w.shareFromPeers * 100)} %, copies/segment ${w.originCopiesPerSegment}, stalls ${w.stalls}, invalid samples: ${bad}, CPU ${formatLoad(w.cpu)}`);
        if (w.pageErrors.length) warnings.push(`${mode}/${transport}: page errors ${w.pageErrors.join("; ")}`);
        if (w.stalls > 0) warnings.push(`${mode}/${transport}: ${w.stalls} stall(s), ${w.stallMs} ms`);
        const invalid = Object.values(w.samples.invalid).reduce((a, b) => a + b, 0);
        if (invalid > 0.1 * (invalid + w.samples.valid)) warnings.push(`${mode}/${transport}: ${invalid} of ${invalid + w.samples.valid} block-code samples unusable (${bad})`);
      }
    }

    const startFailures = starts.filter((s) => !s.ok);
    if (startFailures.length) warnings.push(`${startFailures.length} start(s) failed: ${[...new Set(startFailures.map((s) => s.error))].join("; ")}`);
    const stallsBg = bg1.reduce((n, s) => n + s.stalls, 0) - bg0.reduce((n, s) => n + s.stalls, 0);
    if (stallsBg) warnings.push(`background viewers stalled ${stallsBg} time(s) during the starts`);
    const byMode = (["balanced", "low"] as const).map((mode) => {
      const p2p = windows.find((w) => w.mode === mode && w.transport === "p2p")?.latencyMs.median ?? null;
      const httpMedian = windows.find((w) => w.mode === mode && w.transport === "http")?.latencyMs.median ?? null;
      return { mode, p2pMedianMs: p2p, httpMedianMs: httpMedian, p2pOverHttpMedian: ratio(p2p, httpMedian), p2pMinusHttpMedianMs: diff(p2p, httpMedian) };
    });
    const highCpuPhases = [
      ...(startupCpu.high ? ["start-up"] : []),
      ...windows.filter((w) => w.cpu.high).map((w) => `latency ${w.mode}/${w.transport}`),
    ];
    const results: BenchResults = {
      bench: "player-startup-latency",
      generatedAt: new Date().toISOString(),
      runtimeSec: Math.round((Date.now() - began) / 1000),
      machine,
      setup: { ...SETUP, segmentSec: 2, highCpuPct: HIGH_CPU_PCT },
      startup: {
        p2p: p2pStart,
        http: httpStart,
        p2pOverHttpMedian: ratio(p2pStart.startupMs.median, httpStart.startupMs.median),
        p2pMinusHttpMedianMs: diff(p2pStart.startupMs.median, httpStart.startupMs.median),
        ownMeasure: {
          p2pOverHttpMedian: ratio(p2pStart.gotoToPlayingMs.median, httpStart.gotoToPlayingMs.median),
          p2pMinusHttpMedianMs: diff(p2pStart.gotoToPlayingMs.median, httpStart.gotoToPlayingMs.median),
        },
        backgroundViewers: { peers: bg1.map((s) => s.peers), stalls: stallsBg, shareFromPeers: share(bg0, bg1) },
        cpu: startupCpu,
        starts,
      },
      latency: { windows, byMode },
      highCpuPhases,
      warnings,
    };
    const files = writeResults(resultsDir, results);
    for (const b of byMode) log(`latency ${b.mode}: P2P ${b.p2pMedianMs} ms / HTTP ${b.httpMedianMs} ms = ${b.p2pOverHttpMedian} (${b.p2pMinusHttpMedianMs} ms)`);
    if (highCpuPhases.length) log(`HIGH CPU (> ${HIGH_CPU_PCT} % average) in: ${highCpuPhases.join(", ")}`);
    for (const w of warnings) log(`warning: ${w}`);
    log(`wrote ${files.json} and ${files.md}`);
  } finally {
    load.stop();
    await Promise.all(background.map((v) => v.close().catch(() => {})));
    await browser?.close().catch(() => {});
    await system?.stop().catch(() => {});
    if (system) fs.rmSync(system.origin.dataDir, { recursive: true, force: true }); // our own temp dir
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
