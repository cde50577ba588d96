// One phase: an audience on one transport (HTTP-only or P2P) and latency mode, a scenario
// played on it, and everything measured: the members' own counters, the origin's and the
// tracker's counters, block-code latency from the Chromium viewers, start-up probes, CPU.
import type { Browser } from "playwright-core";
import type { LatencyMode, StreamDetailResponse } from "@peercast/origin/wire";
import { Audience, type MemberSample } from "./audience.js";
import type { HostLoad, PhaseLoad } from "./host-load.js";
import type { Options, ScenarioName } from "./options.js";
import type { Transport } from "./peers/light-peer.js";
import { planScenario } from "./scenarios.js";
import { CounterSum, scrape, type Scrape } from "./scrape.js";
import type { Target } from "./target.js";
import { drainBlockCodeSamples, type LatencySample } from "./viewers/block-code.js";
import { timeOneStart, type StartResult } from "./viewers/startup.js";

export interface PhaseSpec {
  scenario: ScenarioName;
  mode: LatencyMode;
  transport: Transport;
  round: number;
}

/** One point of the timeline, every SAMPLE_MS. */
export interface TimelinePoint {
  tSec: number;
  members: MemberSample[];
  origin: Scrape;
  tracker: Scrape;
  lightHostRssBytes: number;
}

/** What a phase collected; figures are computed from it (phase-figures.ts). */
export interface PhaseRaw {
  spec: PhaseSpec;
  label: string;
  durationSec: number;
  warmupSec: number;
  /** Seconds a segment stays in the playlist: copies are counted when it leaves. */
  playlistWindowSec: number;
  timeline: TimelinePoint[];
  /** Before the first member joined and after the last one left (all members' totals). */
  originBefore: Scrape;
  originAfter: Scrape;
  finalMembers: MemberSample[];
  starts: StartResult[];
  latency: LatencySample[];
  events: { tSec: number; what: string; error?: string }[];
  trackerMessages: number;
  cpu: PhaseLoad;
  /** Rendition changes seen on the Chromium viewers. */
  renditionSwitches: number;
}

export interface PhaseContext {
  target: Target;
  browser: Browser | undefined;
  options: Options;
  load: HostLoad;
  log: (line: string) => void;
  progress: (line: string) => void;
  /** Ends the phase early (Ctrl+C): members leave, processes stop. */
  signal: AbortSignal;
}

const SAMPLE_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPhase(spec: PhaseSpec, ctx: PhaseContext): Promise<PhaseRaw> {
  const { target, options: o } = ctx;
  const label = `${spec.scenario} ${spec.mode} ${spec.transport === "p2p" ? "P2P" : "HTTP-only"}${o.rounds > 1 ? ` round ${spec.round}` : ""}`;
  await target.local?.setLatencyMode(spec.mode);
  const playlistWindowSec = await playlistWindow(target, o.rendition);
  const audience = new Audience({ browser: ctx.browser, originUrl: target.originUrl, stream: target.stream, rendition: o.rendition, transport: spec.transport, sampleMs: 500 });
  const plan = planScenario({ ...o, scenario: spec.scenario, durationSec: o.duration, warmupSec: o.warmup, churnEverySec: o.churnEvery, audience, local: target.local });
  const originBefore = await scrape(`${target.originUrl}/metrics`);
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const events: PhaseRaw["events"] = [];
  const note = (what: string, error?: unknown) => {
    events.push({ tSec: Math.round(elapsed() * 10) / 10, what, ...(error !== undefined && { error: String(error) }) });
    ctx.log(`  ${label} +${Math.round(elapsed())} s: ${what}${error !== undefined ? ` FAILED: ${String(error)}` : ""}`);
  };

  // Light peers join half a second apart, viewers a second apart (each at its own moment).
  for (let i = 0; i < plan.initial.peers; i++) setTimeout(() => audience.addLightPeer(), i * 500);
  for (let i = 0; i < plan.initial.hostile; i++) audience.addLightPeer(true);
  for (let i = 0; i < plan.initial.viewers; i++) {
    await audience.addViewer();
    await sleep(1000);
  }
  note(`${plan.initial.viewers} viewer(s), ${plan.initial.peers} light peer(s)${plan.initial.hostile ? `, ${plan.initial.hostile} hostile` : ""} joined`);

  const pending = [...plan.events];
  const starts: StartResult[] = [];
  let probing = true;
  // Start-up probes: fresh pages one after another while the audience plays, spread over the phase.
  const probes = (async () => {
    if (!ctx.browser || o.starts === 0) return;
    const spacingMs = Math.max(0, ((o.duration - 10) * 1000) / o.starts - 3000);
    while (probing && starts.length < o.starts && elapsed() < o.duration - 8) {
      starts.push(await timeOneStart(ctx.browser, audience.watchUrl, spec.transport));
      await sleep(spacingMs);
    }
  })();

  const timeline: TimelinePoint[] = [];
  const latency: LatencySample[] = [];
  const trackerMessages = new CounterSum();
  const lastRendition = new Map<string, string>();
  let renditionSwitches = 0;
  let endLoad: (() => PhaseLoad) | undefined;
  try {
    while (elapsed() < o.duration && !ctx.signal.aborted) {
      await sleep(Math.min(SAMPLE_MS, (o.duration - elapsed()) * 1000));
      if (!endLoad && elapsed() >= o.warmup) endLoad = ctx.load.phase();
      for (const e of pending.filter((e) => e.atSec <= elapsed())) {
        pending.splice(pending.indexOf(e), 1);
        try {
          await e.run();
          note(e.what);
        } catch (err) {
          note(e.what, err);
        }
      }
      const [members, host, origin, tracker] = await Promise.all([
        audience.snapshot(),
        audience.peers.snapshot(),
        scrape(`${target.originUrl}/metrics`),
        scrape(target.trackerMetricsUrl),
      ]);
      trackerMessages.add(tracker.values.size ? tracker.sum("peercast_tracker_messages_total") : undefined);
      timeline.push({ tSec: Math.round(elapsed() * 10) / 10, members, origin, tracker, lightHostRssBytes: host.memoryBytes });
      for (const m of members) {
        const r = m.kind === "chromium" ? m.stats.rendition : undefined;
        if (r && lastRendition.has(m.id) && lastRendition.get(m.id) !== r) renditionSwitches++;
        if (r) lastRendition.set(m.id, r);
      }
      const drained = await Promise.all(audience.viewerPages.map(([, v]) => drainBlockCodeSamples(v.page).catch(() => undefined)));
      const windowStartMs = started + o.warmup * 1000;
      for (const d of drained) latency.push(...(d?.valid.filter((s) => s.atMs >= windowStartMs) ?? []));
      ctx.progress(progressLine(label, elapsed(), o.duration, timeline));
    }
  } finally {
    probing = false;
  }
  const cpu = (endLoad ?? ctx.load.phase())();
  await probes;
  const finalMembers = await audience.close();
  await sleep(1500); // responses in flight reach the origin's counters
  const originAfter = await scrape(`${target.originUrl}/metrics`);
  return {
    spec, label, durationSec: o.duration, warmupSec: o.warmup, playlistWindowSec, timeline, originBefore, originAfter,
    finalMembers: [...finalMembers, ...starts.flatMap((s, i) => (s.final ? [{ id: `start-${i + 1}`, kind: "chromium" as const, stats: s.final, left: true, errors: [] }] : []))],
    starts, latency, events, trackerMessages: trackerMessages.total, cpu, renditionSwitches,
  };
}

/** How long a segment stays listed in the rendition's playlist. */
async function playlistWindow(target: Target, rendition: string): Promise<number> {
  const detail = (await (await fetch(`${target.originUrl}/api/streams/${target.stream}`)).json()) as StreamDetailResponse;
  if (!detail.stream.session) throw new Error(`stream ${target.stream} is not live`);
  const masterUrl = new URL(detail.stream.session.masterPlaylist, target.originUrl);
  const uri = (await (await fetch(masterUrl)).text()).split("\n").find((l) => !l.startsWith("#") && l.split("/").at(-2) === rendition);
  if (!uri) throw new Error(`no rendition ${rendition} in ${masterUrl.href}`);
  const playlist = await (await fetch(new URL(uri, masterUrl))).text();
  return playlist
    .split("\n")
    .filter((l) => l.startsWith("#EXTINF:"))
    .reduce((sum, l) => sum + parseFloat(l.slice(8)), 0);
}

function progressLine(label: string, t: number, total: number, timeline: TimelinePoint[]): string {
  const width = 20;
  const done = Math.min(width, Math.round((t / total) * width));
  const bar = "#".repeat(done) + ".".repeat(width - done);
  const [a, b] = [timeline.at(-6), timeline.at(-1)];
  let figures = "";
  if (a && b && b.tSec > a.tSec) {
    const sum = (p: TimelinePoint, k: "p2pBytes" | "httpBytes") => p.members.reduce((n, m) => n + m.stats[k], 0);
    const p2p = sum(b, "p2pBytes") - sum(a, "p2pBytes");
    const http = sum(b, "httpBytes") - sum(a, "httpBytes");
    const egress = ((b.origin.sum("peercast_http_bytes_total") - a.origin.sum("peercast_http_bytes_total")) * 8) / (b.tSec - a.tSec) / 1e6;
    const stalls = b.members.reduce((n, m) => n + m.stats.stalls, 0);
    const peers = b.members.filter((m) => !m.left).length;
    figures = ` | ${peers} watching, share ${p2p + http > 0 ? Math.round((100 * p2p) / (p2p + http)) : 0} %, origin ${egress.toFixed(2)} Mbit/s, stalls ${stalls}`;
  }
  return `[${bar}] ${label} ${Math.round(t)}/${total} s${figures}`;
}
