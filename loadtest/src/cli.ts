#!/usr/bin/env node
// `npm run loadtest -- --viewers 2 --peers 8 --duration 120`: see --help (options.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { launchChromium } from "@peercast/origin/testing";
import type { StreamDetailResponse } from "@peercast/origin/wire";
import { readCapacity, findCapacity } from "./capacity.js";
import { formatLoad, HostLoad, machineInfo } from "./host-load.js";
import { HELP, parseOptions, type Options } from "./options.js";
import { runPhase, type PhaseSpec } from "./phase.js";
import { phaseFigures, type PhaseResult } from "./report/phase-figures.js";
import { compare, selfChecks, writeReport } from "./report/report.js";
import { remoteTarget, startLocalTarget, type Target } from "./target.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, "../../results");
const began = Date.now();

function makeLog(progress: boolean) {
  let open = false;
  const clear = () => open && (process.stdout.write("\r\x1b[2K"), (open = false));
  return {
    log: (line: string) => {
      clear();
      console.log(`[loadtest +${String(Math.round((Date.now() - began) / 1000)).padStart(4)} s] ${line}`);
    },
    progress: (line: string) => {
      if (!progress || !process.stdout.isTTY) return;
      process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns || 120) - 1)}`);
      open = true;
    },
  };
}

/** Every phase of the run: per scenario and mode, rounds of HTTP-only then P2P. */
function phasesOf(o: Options): PhaseSpec[] {
  return o.scenario.flatMap((scenario) =>
    o.mode.flatMap((mode) => Array.from({ length: o.rounds }, (_, i) => (["http", "p2p"] as const).map((transport) => ({ scenario, mode, transport, round: i + 1 }))).flat()),
  );
}

async function run(o: Options, signal: AbortSignal): Promise<number> {
  const { log, progress } = makeLog(o.progress);
  const machine = machineInfo();
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB, Node ${machine.node}`);
  const load = new HostLoad();
  let target: Target | undefined;
  let browser: Browser | undefined;
  try {
    target = o.origin ? await remoteTarget(o.origin, o.stream) : await startLocalTarget(o);
    log(`target: ${target.originUrl}${target.local ? " (own system on loopback, test source)" : ""}`);
    if (o.findCapacity) {
      if (!target.local) throw new Error("--find-capacity measures this machine: run it without --origin");
      browser = await launchChromium({ webrtc: true });
      const file = await findCapacity({ browser, target, rendition: o.rendition, load, log, resultsDir: RESULTS_DIR });
      log(`wrote ${file}`);
      return 0;
    }
    const capacity = readCapacity(RESULTS_DIR, machine);
    if (capacity.max !== null && o.viewers > capacity.max) {
      throw new Error(`this machine sustains ${capacity.max} playing Chromium viewers (${capacity.source}): use --viewers ${capacity.max} or fewer, and --peers for a larger audience`);
    }
    if (o.viewers > 0) browser = await launchChromium({ webrtc: true });
    const detail = (await (await fetch(`${target.originUrl}/api/streams/${o.stream}`)).json()) as StreamDetailResponse;
    const segmentSec = detail.stream.session?.segmentDurationSec ?? 2;
    const phases: PhaseResult[] = [];
    const warnings: string[] = capacity.max === null ? [`viewer capacity not measured on this machine (run --find-capacity)`] : [];
    for (const spec of phasesOf(o)) {
      if (signal.aborted) return 130;
      log(`phase: ${spec.scenario}, ${spec.mode}, ${spec.transport === "p2p" ? "P2P" : "HTTP-only"}, round ${spec.round}`);
      const raw = await runPhase(spec, { target, browser, options: o, load, log, progress, signal });
      const p = phaseFigures(raw, o.stream);
      phases.push(p);
      log(`  => copies/segment ${JSON.stringify(p.offload.copiesPerSegment)}, share ${Math.round(100 * p.offload.shareFromPeers)} %, start-up median ${p.startup.probesMs.median} ms (${p.startup.probesMs.n}), stalls ${p.stalls.count} (${p.stalls.seconds} s), latency median ${p.latency.glassToGlassMs.median} ms, egress ${p.cost.originEgressMbps} Mbit/s, host CPU ${formatLoad(p.cost.host)}`);
      if (p.cost.host.high) warnings.push(`${p.label}: host CPU ${p.cost.host.avgPct} % (above the limit): left out of the medians`);
      if (p.errors.length) warnings.push(`${p.label}: ${p.errors.length} error(s): ${p.errors.slice(0, 3).join("; ")}`);
    }
    const out = o.out ? path.resolve(o.out) : path.join(RESULTS_DIR, new Date().toISOString().replace(/[:.]/g, "-"));
    const checks = selfChecks(phases, segmentSec);
    writeReport(out, {
      tool: "peercast-loadtest",
      generatedAt: new Date().toISOString(),
      runtimeSec: Math.round((Date.now() - began) / 1000),
      machine,
      target: { originUrl: target.originUrl, local: target.local !== undefined, stream: o.stream, segmentSec },
      options: o,
      viewerCapacity: capacity,
      comparisons: compare(phases),
      checks,
      phases,
      warnings,
    });
    const failed = checks.filter((c) => !c.ok);
    for (const c of failed) log(`SELF-CHECK FAILED: ${c.name}, ${c.phase}: ${c.detail}`);
    log(`report: ${path.join(out, "report.md")} (${checks.length - failed.length}/${checks.length} self-checks passed)`);
    return failed.length ? 3 : 0;
  } finally {
    load.stop();
    await browser?.close().catch(() => {});
    await target?.stop().catch(() => {});
  }
}

async function main(): Promise<number> {
  let options: Options | "help";
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`loadtest: ${(err as Error).message}`);
    return 2;
  }
  if (options === "help") {
    console.log(HELP);
    return 0;
  }
  // The first signal ends the current phase early and still cleans up (no orphan ffmpeg).
  const stop = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (stop.signal.aborted) process.exit(130);
      console.error(`\nloadtest: ${sig}: stopping after cleaning up (again to quit at once)`);
      stop.abort();
    });
  }
  return run(options, stop.signal);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`loadtest: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
