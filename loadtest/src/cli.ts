#!/usr/bin/env node
// `npm run loadtest -- --viewers 2 --peers 8 --duration 120`: see --help (options.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { launchChromium } from "@peercast/origin/testing";
import { launchChromiumAtLowPriority } from "./audience-priority.js";
import { readCapacity, findCapacity } from "./capacity.js";
import { formatLoad, HostLoad, machineInfo } from "./host-load.js";
import { AudienceNetwork } from "./net/audience-network.js";
import { probeLinks, type LinkProbe } from "./net/link-probes.js";
import type { NetProfileName } from "./net/profiles.js";
import { HELP, parseOptions, type Options } from "./options.js";
import { runPhase, type PhaseContext, type PhaseSpec } from "./phase.js";
import { phaseFigures, type PhaseResult } from "./report/phase-figures.js";
import { compare, linkChecks, selfChecks, writeReport } from "./report/report.js";
import { remoteTarget, startLocalTarget, type Target } from "./target.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Committed: the runs the docs quote, and this machine's measured viewer capacity. */
export const RESULTS_DIR = path.resolve(here, "../../results");
/** Where a run goes unless --out says otherwise: ignored by git (a run is kept by moving it to RESULTS_DIR and quoting it). */
const RUNS_DIR = path.resolve(here, "../../runs");
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

/** Every phase of the run: per access profile, scenario and mode, rounds of HTTP-only then P2P (those asked for). */
function phasesOf(o: Options): PhaseSpec[] {
  return o.net.flatMap((net) =>
    o.scenario.flatMap((scenario) =>
      o.mode.flatMap((mode) =>
        Array.from({ length: o.rounds }, (_, i) =>
          (["http", "p2p"] as const).filter((t) => o.transport.includes(t)).map((transport) => ({ net, scenario, mode, transport, round: i + 1 })),
        ).flat(),
      ),
    ),
  );
}

async function run(o: Options, signal: AbortSignal): Promise<number> {
  const { log, progress } = makeLog(o.progress);
  const machine = machineInfo();
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB, Node ${machine.node}`);
  const capacity = readCapacity(RESULTS_DIR, machine, o.rendition);
  // A start-up probe is one more playing page while it runs.
  const pages = o.viewers + (o.starts > 0 ? 1 : 0);
  if (!o.findCapacity && capacity.max !== null && pages > capacity.max) {
    const most = capacity.max - (o.starts > 0 ? 1 : 0);
    throw new Error(
      `this machine sustains ${capacity.max} playing Chromium viewers of ${o.rendition} (${capacity.source}), start-up probes included: use --viewers ${most} or fewer, and --peers for a larger audience`,
    );
  }
  const load = new HostLoad();
  let target: Target | undefined;
  let browser: Browser | undefined;
  let probeBrowser: Browser | undefined;
  const out = o.out ? path.resolve(o.out) : path.join(RUNS_DIR, new Date().toISOString().replace(/[:.]/g, "-"));
  try {
    target = o.origin ? await remoteTarget(o.origin, o.stream, o.originMetrics!, o.trackerMetrics) : await startLocalTarget({ ...o, out });
    log(`target: ${target.originUrl}${target.local ? " (own system on loopback, test source)" : ""}; bitrates ${JSON.stringify(target.bitrateKbps)} kbit/s`);
    const networks = new Map<NetProfileName, AudienceNetwork>();
    let linkProbes: LinkProbe[] = [];
    if (target.network) {
      const { emulator, originUrl } = target.network;
      for (const net of o.net) if (net !== "lan") networks.set(net, new AudienceNetwork(emulator, net, o.seed, originUrl, o.viewers));
      log(`emulated links: ${[...networks.keys()].join(", ")} (server side ${originUrl}); probing each access profile`);
      linkProbes = await probeLinks(emulator, o.net);
      for (const p of linkProbes)
        log(
          `  ${p.profile} ${p.path}: rtt ${p.result.rttMs.median} ms, up ${p.result.upKbps} / down ${p.result.downKbps} kbit/s, loss ${p.result.lossUpPct} / ${p.result.lossDownPct} %${p.problems.length ? `: ${p.problems.join("; ")}` : ""}`,
        );
    }
    if ((o.viewers > 0 && o.net.includes("lan")) || o.findCapacity)
      browser = await launchChromiumAtLowPriority(() => launchChromium({ webrtc: true, ownSignals: true }));
    if (o.findCapacity) {
      if (!target.local) throw new Error("--find-capacity measures this machine: run it without --origin");
      log(`wrote ${await findCapacity({ browser: browser!, target, rendition: o.rendition, load, log, resultsDir: RESULTS_DIR, signal })}`);
      return 0;
    }
    if (o.starts > 0 && o.net.includes("lan")) probeBrowser = await launchChromium({ webrtc: true, ownSignals: true });
    const { phases, stopped } = await runPhases(o, { target, browser, probeBrowser, networks, options: o, load, log, progress, signal });
    const warnings = [
      ...(capacity.max === null ? [`viewer capacity not measured on this machine (run --find-capacity): ${capacity.source}`] : []),
      ...(stopped ? [`run stopped early: ${stopped}; the report has the phases that completed`] : []),
      ...phases.flatMap((p) => [
        ...(p.cost.host.high ? [`${p.label}: host CPU ${p.cost.host.avgPct} % (above the limit): left out of the medians where calmer rounds exist`] : []),
        ...(p.errors.length ? [`${p.label}: ${p.errors.length} error(s): ${p.errors.slice(0, 3).join("; ")}`] : []),
      ]),
    ];
    const checks = [...selfChecks(phases, target.segmentSec), ...linkChecks(linkProbes, phases)];
    writeReport(out, {
      tool: "peercast-loadtest",
      generatedAt: new Date().toISOString(),
      runtimeSec: Math.round((Date.now() - began) / 1000),
      machine,
      target: { originUrl: target.originUrl, local: target.local !== undefined, stream: o.stream, segmentSec: target.segmentSec },
      options: o,
      viewerCapacity: capacity,
      comparisons: compare(phases),
      checks,
      phases,
      linkProbes,
      warnings,
    });
    const failed = checks.filter((c) => !c.ok);
    for (const c of failed) log(`SELF-CHECK FAILED: ${c.name}, ${c.phase}: ${c.detail}`);
    for (const w of warnings) log(`warning: ${w}`);
    log(`report: ${path.join(out, "report.md")} (${checks.length - failed.length}/${checks.length} self-checks passed)`);
    if (stopped) return signal.aborted ? 130 : 1;
    return failed.length || checks.length === 0 ? 3 : 0;
  } finally {
    load.stop();
    await browser?.close().catch(() => {});
    await probeBrowser?.close().catch(() => {});
    await target?.stop().catch(() => {});
  }
}

/** Every phase in turn; one that fails or is interrupted ends the run, keeping what completed. */
async function runPhases(o: Options, ctx: PhaseContext): Promise<{ phases: PhaseResult[]; stopped: string | undefined }> {
  const phases: PhaseResult[] = [];
  for (const spec of phasesOf(o)) {
    if (ctx.signal.aborted) return { phases, stopped: "interrupted" };
    ctx.log(`phase: ${spec.scenario}, ${spec.mode}, ${spec.transport === "p2p" ? "P2P" : "HTTP-only"}, round ${spec.round}`);
    try {
      const raw = await runPhase(spec, ctx);
      if (ctx.signal.aborted) return { phases, stopped: "interrupted" }; // a cut phase has no figures
      const p = phaseFigures(raw, o.stream);
      const n = p.net;
      if (n)
        ctx.log(
          `  => links: bound ${n.boundCopies} copies at ${n.bitrateKbps} kbit/s, pairs connected ${n.pairsConnectedPct} %, ${n.links.lostFrames} lost, ${n.links.queueDrops} queue drops, longest queue ${n.links.maxQueueMs} ms, switch lateness p99 ${n.links.latenessP99Ms} ms`,
        );
      phases.push(p);
      ctx.log(
        `  => copies/segment ${JSON.stringify(p.offload.copiesPerSegment)}, share ${Math.round(100 * p.offload.shareFromPeers)} %, start-up median ${p.startup.probesMs.median} ms (${p.startup.probesMs.n}; ${JSON.stringify(p.startup.probeMilestonesMs)}; ${p.startup.probeAbortedSegmentRequests} segment requests cut), stalls ${p.stalls.count} (${p.stalls.seconds} s), latency median ${p.latency.glassToGlassMs.median} ms, egress ${p.cost.originEgressMbps} Mbit/s, host CPU ${formatLoad(p.cost.host)}`,
      );
    } catch (err) {
      ctx.log(`phase failed: ${err instanceof Error ? err.message : String(err)}`);
      return { phases, stopped: `${spec.scenario} ${spec.mode} ${spec.transport} failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return { phases, stopped: undefined };
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
