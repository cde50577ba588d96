// One phase: an audience on one transport (HTTP-only or P2P) and latency mode, a scenario
// played on it, and everything measured: the members' own counters, the origin's and the
// tracker's counters, block-code latency from the Chromium viewers, start-up probes, CPU.
import { inspect } from "node:util";
import type { Browser } from "playwright-core";
import type { LatencyMode, StreamDetailResponse } from "@peercast/origin/wire";
import { Audience, type MemberSample } from "./audience.js";
import type { HostLoad, PhaseLoad } from "./host-load.js";
import { ABR, type Options, type ScenarioName } from "./options.js";
import type { AudienceNetwork } from "./net/audience-network.js";
import type { NetProfileName } from "./net/profiles.js";
import type { NetCounters } from "./net/switch-process.js";
import { findRendition } from "./peers/media-playlist.js";
import type { Transport } from "./peers/light-peer.js";
import { planScenario, type ScenarioEvent } from "./scenarios.js";
import { CounterSum, scrape, type Scrape } from "./scrape.js";
import type { Target } from "./target.js";
import { drainBlockCodeSamples, type LatencySample } from "./viewers/block-code.js";
import { timeOneStart, type StartResult } from "./viewers/startup.js";

export interface PhaseSpec {
  /** Viewers' access links (lan: loopback). */
  net: NetProfileName;
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

/**
 * What a phase collected; figures are computed from it (phase-figures.ts). A phase is: warm-up,
 * the measured window (to `durationSec`), a settling time until the window's segments have left
 * the origin's retention (their copies are counted then), then the start-up probes.
 */
export interface PhaseRaw {
  spec: PhaseSpec;
  label: string;
  durationSec: number;
  warmupSec: number;
  /** Seconds from a segment's production until the origin counts its copies. */
  copiesDelaySec: number;
  timeline: TimelinePoint[];
  /** Before the first member joined and after the last one left (all members' totals). */
  originBefore: Scrape;
  originAfter: Scrape;
  trackerBefore: Scrape;
  trackerAfter: Scrape;
  finalMembers: MemberSample[];
  /** HTTP bytes light peers' aborted downloads left unread (see peers/runtime.ts). */
  abandonedHttpBytes: number;
  /** Processes the light peers ran in. */
  lightPeerHosts: number;
  starts: StartResult[];
  latency: LatencySample[];
  events: { tSec: number; what: string; error?: string }[];
  trackerMessages: number;
  cpu: PhaseLoad;
  /** Rendition changes seen on the Chromium viewers. */
  renditionSwitches: number;
  /** Emulated links (null on lan): the switch's counters over the phase, the members' uplinks, the rendition's bitrate. */
  net: { counters: NetCounters | null; uplinksKbps: number[]; bitrateKbps: number | null } | null;
  /** Members that could not join (their namespace could not be made). */
  joinErrors: string[];
}

export interface PhaseContext {
  target: Target;
  browser: Browser | undefined;
  /**
   * A browser of its own for start-up probes: a new viewer is someone else's browser, not a tab
   * beside busy P2P viewers (whose WebRTC traffic crosses the same browser process).
   */
  probeBrowser: Browser | undefined;
  /** Per emulated profile: where members sit (absent: loopback only). */
  networks: Map<NetProfileName, AudienceNetwork>;
  options: Options;
  load: HostLoad;
  log: (line: string) => void;
  progress: (line: string) => void;
  /** Ends the phase early (Ctrl+C): members leave, processes stop. */
  signal: AbortSignal;
}

const SAMPLE_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

export async function runPhase(spec: PhaseSpec, ctx: PhaseContext): Promise<PhaseRaw> {
  const { target, options: o } = ctx;
  const label = `${spec.net === "lan" ? "" : `${spec.net} `}${spec.scenario} ${spec.mode} ${spec.transport === "p2p" ? "P2P" : "HTTP-only"}${o.rounds > 1 ? ` round ${spec.round}` : ""}`;
  await target.local?.setLatencyMode(spec.mode);
  await checkRendition(target, o.rendition);
  const net = spec.net === "lan" ? undefined : ctx.networks.get(spec.net);
  if (spec.net !== "lan" && !net) throw new Error(`no emulated network for ${spec.net}`);
  const audience = new Audience({
    browser: ctx.browser,
    originUrl: net?.originUrl ?? target.originUrl,
    stream: target.stream,
    rendition: o.rendition,
    renditions: target.renditions,
    transport: spec.transport,
    sampleMs: 500,
    peersPerHost: o.peersPerHost,
    net,
  });
  await net?.resetCounters();
  const plan = planScenario({
    ...o,
    scenario: spec.scenario,
    durationSec: o.duration,
    warmupSec: o.warmup,
    churnEverySec: o.churnEvery,
    audience,
    local: target.local,
  });
  const [originBefore, trackerBefore] = await Promise.all([scrape(target.originMetricsUrl), scrape(target.trackerMetricsUrl)]);
  // Emulated links: each viewer's browser starts in its namespace before the phase's clock (a
  // browser per viewer takes seconds to launch; on loopback they share one, already running).
  await audience.prepareViewers(plan.initial.viewers);
  const started = Date.now();
  const sampler = new Sampler(ctx, audience, started);
  const events = new EventRunner(plan.events, sampler, (line) => ctx.log(`  ${label} ${line}`));
  let closed: Awaited<ReturnType<Audience["close"]>> | undefined;
  const starts: StartResult[] = [];
  try {
    // Light peers arrive over the first half of the warm-up; viewers one a second.
    audience.addLightPeers(plan.initial.peers, Math.min(500, (o.warmup * 500) / Math.max(1, plan.initial.peers)));
    for (let i = 0; i < plan.initial.hostile; i++) audience.addLightPeer(true);
    for (let i = 0; i < plan.initial.viewers; i++) await Promise.all([audience.addViewer(), sleep(1000)]);
    events.note(
      `${plan.initial.viewers} viewer(s), ${plan.initial.peers} light peer(s)${plan.initial.hostile ? `, ${plan.initial.hostile} hostile` : ""} joining`,
    );
    const loop = (untilSec: number, stage: string, done?: Promise<unknown>) => sampler.until(untilSec, `${label}${stage ? `, ${stage}` : ""}`, events, done);

    // 1. The measured window (after the warm-up).
    await loop(o.warmup, "warm-up");
    const endLoad = ctx.load.phase();
    await loop(o.duration, "");
    const cpu = endLoad();
    await events.settled();
    // 2. The audience plays on until the window's segments have left the origin's retention:
    // their copies are counted then.
    // Every rendition is cut at the same time: any one gives the delay.
    const copiesDelaySec = sampler.copiesDelaySec(target.stream, o.rendition === ABR ? target.renditions[0]! : o.rendition);
    await loop(o.duration + copiesDelaySec + SAMPLE_MS / 1000, "settling");
    // 3. Start-up probes: fresh pages one after another while the audience plays. They come after
    // the window because each new viewer fetches its first segments from the origin.
    // On emulated links the probes run behind a link of their own, like any new viewer.
    const probeBrowser = o.starts > 0 && net ? await net.browser("probe", 0, false) : ctx.probeBrowser;
    if (probeBrowser && o.starts > 0) {
      try {
        const probes = (async () => {
          while (starts.length < o.starts && !ctx.signal.aborted) starts.push(await timeOneStart(probeBrowser, audience.watchUrl, spec.transport));
        })();
        await loop(Infinity, "start-up probes", probes);
        await probes;
      } finally {
        if (net) await probeBrowser.close().catch(() => {});
      }
    }
    closed = await audience.close();
    await sleep(1500); // responses in flight reach the origin's counters
    const [originAfter, trackerAfter] = await Promise.all([scrape(target.originMetricsUrl), scrape(target.trackerMetricsUrl)]);
    return {
      spec,
      label,
      durationSec: o.duration,
      warmupSec: o.warmup,
      copiesDelaySec,
      timeline: sampler.timeline,
      originBefore,
      originAfter,
      trackerBefore,
      trackerAfter,
      abandonedHttpBytes: closed.abandonedHttpBytes,
      lightPeerHosts: closed.lightPeerHosts,
      finalMembers: [
        ...closed.members,
        ...starts.flatMap((s, i) => (s.final ? [{ id: `start-${i + 1}`, kind: "chromium" as const, stats: s.final, left: true, errors: [] }] : [])),
      ],
      starts,
      latency: sampler.latency,
      events: events.log,
      trackerMessages: sampler.trackerMessages.total,
      cpu,
      renditionSwitches: sampler.renditionSwitches,
      net: net
        ? { counters: await net.counters().catch(() => null), uplinksKbps: await net.uplinksKbps(), bitrateKbps: target.bitrateKbps[o.rendition] ?? null }
        : null,
      joinErrors: closed.joinErrors,
    };
  } finally {
    if (!closed) await audience.close().catch(() => {});
  }
}

/** The timeline: every member's counters and the origin's and tracker's, every SAMPLE_MS. */
class Sampler {
  readonly timeline: TimelinePoint[] = [];
  readonly latency: LatencySample[] = [];
  /** Tracker messages over the measured window only (start-up probes are not the audience). */
  readonly trackerMessages = new CounterSum();
  renditionSwitches = 0;
  private readonly lastRendition = new Map<string, string>();

  constructor(
    private readonly ctx: PhaseContext,
    private readonly audience: Audience,
    private readonly started: number,
  ) {}

  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** Samples until `untilSec` (or `done` settles), running the scenario's due events meanwhile. */
  async until(untilSec: number, label: string, events: EventRunner, done?: Promise<unknown>): Promise<void> {
    let finished = false;
    const over = done?.then(
      () => (finished = true),
      () => (finished = true),
    );
    while (this.elapsed() < untilSec && !finished && !this.ctx.signal.aborted) {
      await Promise.race([sleep(Math.min(SAMPLE_MS, (untilSec - this.elapsed()) * 1000)), ...(over ? [over] : [])]);
      events.runDue(this.elapsed());
      await this.sample();
      this.ctx.progress(progressLine(label, this.elapsed(), untilSec, this.timeline));
    }
  }

  private async sample(): Promise<void> {
    const { target, options: o } = this.ctx;
    const [{ members, lightHostRssBytes }, origin, tracker] = await Promise.all([
      this.audience.snapshot(),
      scrape(target.originMetricsUrl),
      scrape(target.trackerMetricsUrl),
    ]);
    const t = this.elapsed();
    if (t >= o.warmup && t <= o.duration + SAMPLE_MS / 1000)
      this.trackerMessages.add(tracker.values.size ? tracker.sum("peercast_tracker_messages_total") : undefined);
    this.timeline.push({ tSec: round1(t), members, origin, tracker, lightHostRssBytes });
    for (const m of members) {
      const r = m.kind === "chromium" ? m.stats.rendition : undefined;
      if (r && this.lastRendition.has(m.id) && this.lastRendition.get(m.id) !== r) this.renditionSwitches++;
      if (r) this.lastRendition.set(m.id, r);
    }
    const drained = await Promise.all(this.audience.viewerPages.map(([, v]) => drainBlockCodeSamples(v.page).catch(() => undefined)));
    const [from, to] = [this.started + o.warmup * 1000, this.started + o.duration * 1000];
    for (const d of drained) this.latency.push(...(d?.valid.filter((s) => s.atMs >= from && s.atMs <= to) ?? []));
  }

  /**
   * How long the origin holds a segment before counting its copies: the segments produced but
   * not yet counted, times the segment duration (playlist plus retention, from its own counters).
   */
  copiesDelaySec(stream: string, rendition: string): number {
    const last = this.timeline.at(-1)?.origin;
    if (!last) return 0;
    const labels = { stream, rendition };
    const pending = last.sum("peercast_segments_produced_total", labels) - last.sum("peercast_origin_segment_copies_count", labels);
    const segmentSec = this.ctx.target.segmentSec;
    return Math.max(0, pending) * segmentSec;
  }
}

/** Scenario events run when due, in parallel with the sampling (a restart takes seconds). */
class EventRunner {
  readonly log: PhaseRaw["events"] = [];
  private readonly running: Promise<void>[] = [];

  constructor(
    private readonly pending: ScenarioEvent[],
    private readonly sampler: Sampler,
    private readonly print: (line: string) => void,
  ) {}

  note(what: string, error?: unknown): void {
    const tSec = round1(this.sampler.elapsed());
    const text = error === undefined ? undefined : error instanceof Error ? String(error) : inspect(error);
    this.log.push({ tSec, what, ...(text !== undefined && { error: text }) });
    this.print(`+${Math.round(tSec)} s: ${what}${text !== undefined ? ` FAILED: ${text}` : ""}`);
  }

  runDue(nowSec: number): void {
    for (const e of this.pending.filter((e) => e.atSec <= nowSec)) {
      this.pending.splice(this.pending.indexOf(e), 1);
      this.note(e.what);
      this.running.push(
        Promise.resolve()
          .then(() => e.run())
          .then(
            () => undefined,
            (err: unknown) => this.note(`${e.what}`, err),
          ),
      );
    }
  }

  /** Waits for events still running (a restart in progress). */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }
}

/** Fails early, with a clear message, when the stream has no such rendition. */
async function checkRendition(target: Target, rendition: string): Promise<void> {
  if (rendition === ABR) {
    if (target.renditions.length < 2)
      throw new Error(`--rendition ${ABR} needs a ladder of two or more renditions; ${target.stream} has ${target.renditions.join(", ")}`);
    return;
  }
  const detail = (await (await fetch(`${target.originUrl}/api/streams/${target.stream}`)).json()) as StreamDetailResponse;
  if (!detail.stream.session) throw new Error(`stream ${target.stream} is not live`);
  const masterUrl = new URL(detail.stream.session.masterPlaylist, target.originUrl);
  if (!findRendition(await (await fetch(masterUrl)).text(), rendition)) throw new Error(`no rendition "${rendition}" in ${masterUrl.href}`);
}

function progressLine(label: string, t: number, total: number, timeline: TimelinePoint[]): string {
  const width = 20;
  const done = Number.isFinite(total) ? Math.min(width, Math.round((t / total) * width)) : width;
  const bar = "#".repeat(done) + ".".repeat(width - done);
  const [a, b] = [timeline.at(-6), timeline.at(-1)];
  let figures = "";
  if (a && b && b.origin.at > a.origin.at) {
    const sum = (p: TimelinePoint, k: "p2pBytes" | "httpBytes") => p.members.reduce((n, m) => n + m.stats[k], 0);
    const p2p = sum(b, "p2pBytes") - sum(a, "p2pBytes");
    const http = sum(b, "httpBytes") - sum(a, "httpBytes");
    const egress = ((b.origin.sum("peercast_http_bytes_total") - a.origin.sum("peercast_http_bytes_total")) * 8) / ((b.origin.at - a.origin.at) / 1000) / 1e6;
    const stalls = b.members.reduce((n, m) => n + m.stats.stalls, 0);
    const watching = b.members.filter((m) => !m.left).length;
    figures = ` | ${watching} watching, share ${p2p + http > 0 ? Math.round((100 * p2p) / (p2p + http)) : 0} %, origin ${egress.toFixed(2)} Mbit/s, stalls ${stalls}`;
  }
  return `[${bar}] ${label} ${Math.round(t)}${Number.isFinite(total) ? `/${Math.round(total)}` : ""} s${figures}`;
}
