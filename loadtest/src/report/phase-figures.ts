// A phase's figures from what it collected: offload, viewer experience and cost, each from
// its one source (the origin's counters for copies and egress, the members' own counters for
// share and stalls, the picture's block code for glass-to-glass latency).
import type { StatsBeacon } from "@peercast/origin/wire";
import type { MemberKind, MemberSample } from "../audience.js";
import type { PhaseLoad } from "../host-load.js";
import { noFetchCauses, noPeerTryEnds, type FetchCause, type FetchCauses, type PeerTryEnd, type PeerTryEnds } from "../peers/fetch-causes.js";
import type { PhaseRaw, PhaseSpec, TimelinePoint } from "../phase.js";
import { CounterSum, type Scrape } from "../scrape.js";
import { round, summarize, type Summary } from "./figures.js";
import type { StartMilestones, StartResult } from "../viewers/startup.js";

export interface PhaseResult {
  spec: PhaseSpec;
  label: string;
  durationSec: number;
  /** The measured window: from the end of the warm-up to the end of the phase. */
  windowSec: number;
  /**
   * Members watching at the end, light peers that joined at any time (churn), the processes they
   * ran in, and connections the tracker refused for too many from one address (the whole
   * audience is one address here: each refused member plays alone).
   */
  audience: Record<MemberKind, number> & { lightJoined: number; lightPeerHosts: number; byRendition: Record<string, number>; refusedByTracker: number | null };
  offload: {
    /** Origin fetches per segment, by rendition, from the origin's count as segments leave the playlist. */
    copiesPerSegment: Record<string, number | null>;
    /** Segments behind each figure. */
    segmentsCounted: Record<string, number>;
    shareFromPeers: number;
    /** The most peers can give: sum over renditions of (N_r - 1) / N (one origin copy each). */
    shareBound: number | null;
    /**
     * Light peers' origin fetches per segment of the renditions watched, by cause (see
     * peers/fetch-causes.ts): what their part of the copies is made of. Null without light peers.
     */
    lightFetchesPerSegment: FetchCauses | null;
    /** Mean time from listing to an elected fetch, light peers. */
    lightElectedWaitMs: number | null;
    /**
     * Light peers' `afterPeer` fetches per segment by how the try from a peer ended, and how far
     * ahead of the playhead they began on average (ms): why peers' transfers did not finish.
     */
    lightAfterPeer: { ends: PeerTryEnds; aheadMs: number | null } | null;
    p2pBytes: number;
    httpBytes: number;
  };
  startup: {
    probesMs: Summary;
    probesFailed: number;
    /** Where a probe's start-up went (medians from navigation start, Resource Timing). */
    probeMilestonesMs: Record<keyof StartMilestones, number | null>;
    /** Segment requests the probes' pages cut (counted by the origin, never by the page). */
    probeAbortedSegmentRequests: number;
    audienceMs: Record<"chromium" | "light", Summary>;
    /** Each probe: its start-up and where it went, in the order they ran. */
    probes: { ok: boolean; startupMs: number | null; gotoToNavStartMs: number | null; milestones: StartMilestones | null }[];
  };
  stalls: {
    count: number;
    seconds: number;
    ratio: number;
    byKind: Record<"chromium" | "light", { count: number; seconds: number; ratio: number }>;
    /** Stalls in the warm-up (members there at the window's start): each one raises a player's target latency for a while. */
    inWarmup: number;
  };
  latency: { glassToGlassMs: Summary; playerReportedMs: Summary; lightPeersMs: Summary };
  renditionSwitches: number;
  rejectedSegments: number;
  errors: string[];
  cost: {
    originEgressBytes: number;
    originEgressMbps: number;
    originCpuPctOfCore: number | null;
    originRssMiB: number | null;
    trackerCpuPctOfCore: number | null;
    trackerRssMiB: number | null;
    trackerMessagesPerSec: number;
    lightPeerHostRssMiB: number | null;
    host: PhaseLoad;
  };
  /** Emulated links (null on lan). */
  net: NetFigures | null;
  reconcile: {
    clientHttpBytes: number;
    abandonedHttpBytes: number;
    originBytes: number;
    httpDiffPct: number | null;
    p2pReceivedBytes: number;
    p2pUploadedBytes: number;
    p2pDiffPct: number | null;
  };
  /** Per sample: share from peers, origin egress, and the viewers' glass-to-glass latency (median of the block-code reads since the last sample). */
  timeline: { tSec: number; shareFromPeers: number | null; originEgressMbps: number; latencyMs: number | null }[];
  events: PhaseRaw["events"];
}

export interface NetFigures {
  profile: string;
  /** The rendition's measured bitrate (kbit/s). */
  bitrateKbps: number | null;
  /**
   * The fewest origin copies per segment the audience's uplinks allow (fluid model, Kumar, Liu
   * and Ross 2007): max(1, N - sum of uplinks / bitrate).
   */
  boundCopies: number | null;
  /** Of the pairs of members, the share that had a WebRTC connection (P2P phases only). */
  pairsConnectedPct: number | null;
  /**
   * P2P phases: each member's access link, how many other members it connected to, and a light
   * peer's origin fetches by cause over the whole phase (warm-up included): where the copies go.
   */
  reach: { id: string; access: string; peersMet: number; fetches?: FetchCauses }[] | null;
  /** The switch's counters over the phase, all links together. */
  links: { frames: number; lostFrames: number; queueDrops: number; maxQueueMs: number; latenessP99Ms: number; switchCpuPctOfCore: number | null };
}

type Counter = "httpBytes" | "p2pBytes" | "uploadedBytes" | "stalls" | "stallMs" | "playingMs" | "rejectedSegments";

/** Sum over members of how much `key` grew between two points (members new at `b` count from 0). */
function grew(a: MemberSample[] | undefined, b: MemberSample[], key: Counter, only?: (m: MemberSample) => boolean): number {
  const before = new Map((a ?? []).map((m) => [m.id, m.stats[key]]));
  return b.filter((m) => !only || only(m)).reduce((n, m) => n + m.stats[key] - (before.get(m.id) ?? 0), 0);
}

const total = (members: MemberSample[], key: keyof Pick<StatsBeacon, Counter>) => members.reduce((n, m) => n + m.stats[key], 0);
const pctDiff = (a: number, b: number) => (b > 0 ? round((100 * (a - b)) / b, 2) : a === 0 ? 0 : null);
const mib = (bytes: number | null) => (bytes === null ? null : round(bytes / 2 ** 20, 1));

function copiesByRendition(raw: PhaseRaw, stream: string): Pick<PhaseResult["offload"], "copiesPerSegment" | "segmentsCounted"> {
  // A segment's copies are counted when it leaves the playlist: shift the window by that time.
  const shift = raw.copiesDelaySec;
  const from = raw.timeline.find((p) => p.tSec >= raw.warmupSec + shift);
  const to = raw.timeline.filter((p) => p.tSec <= raw.durationSec + shift + 2.5).at(-1);
  const copiesPerSegment: Record<string, number | null> = {};
  const segmentsCounted: Record<string, number> = {};
  if (!from || !to) return { copiesPerSegment, segmentsCounted };
  for (const rendition of to.origin.labelValues("peercast_origin_segment_copies_count", "rendition")) {
    const labels = { stream, rendition };
    const d = (s: Scrape, name: string) => s.sum(name, labels);
    const count = d(to.origin, "peercast_origin_segment_copies_count") - d(from.origin, "peercast_origin_segment_copies_count");
    const sum = d(to.origin, "peercast_origin_segment_copies_sum") - d(from.origin, "peercast_origin_segment_copies_sum");
    copiesPerSegment[rendition] = count > 0 ? round(sum / count, 2) : null;
    segmentsCounted[rendition] = count;
  }
  return { copiesPerSegment, segmentsCounted };
}

/**
 * Light peers' origin fetches over the window, by cause, per segment counted on the renditions
 * watched; and how long after a segment was listed the elected ones began, on average.
 */
function lightFetches(
  a: MemberSample[],
  b: MemberSample[],
  segments: number,
): Pick<PhaseResult["offload"], "lightFetchesPerSegment" | "lightElectedWaitMs" | "lightAfterPeer"> {
  const light = b.filter((m) => m.kind === "light" && m.fetchCauses);
  if (light.length === 0 || segments === 0) return { lightFetchesPerSegment: null, lightElectedWaitMs: null, lightAfterPeer: null };
  const before = new Map(a.map((m) => [m.id, m.fetchCauses]));
  const [counts, waitMs, ends] = [noFetchCauses(), noFetchCauses(), noPeerTryEnds()];
  let aheadMs = 0;
  for (const m of light) {
    const was = before.get(m.id);
    for (const cause of Object.keys(counts) as FetchCause[]) {
      counts[cause] += m.fetchCauses!.counts[cause] - (was?.counts[cause] ?? 0);
      waitMs[cause] += m.fetchCauses!.waitMs[cause] - (was?.waitMs[cause] ?? 0);
    }
    for (const end of Object.keys(ends) as PeerTryEnd[]) ends[end] += m.fetchCauses!.afterPeerEnds[end] - (was?.afterPeerEnds[end] ?? 0);
    aheadMs += m.fetchCauses!.afterPeerAheadMs - (was?.afterPeerAheadMs ?? 0);
  }
  const perSegment = <K extends string>(n: Record<K, number>) =>
    Object.fromEntries(Object.entries<number>(n).map(([k, v]) => [k, round(v / segments, 2)])) as Record<K, number>;
  return {
    lightFetchesPerSegment: perSegment(counts),
    lightElectedWaitMs: counts.elected > 0 ? Math.round(waitMs.elected / counts.elected) : null,
    lightAfterPeer: { ends: perSegment(ends), aheadMs: counts.afterPeer > 0 ? Math.round(aheadMs / counts.afterPeer) : null },
  };
}

/** Members watching at the end (hostile ones aside), by the rendition they were on. */
function byRendition(members: MemberSample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of members) if (m.kind !== "hostile" && !m.left && m.stats.rendition) counts[m.stats.rendition] = (counts[m.stats.rendition] ?? 0) + 1;
  return counts;
}

export function shareBound(counts: Record<string, number>): number | null {
  const n = Object.values(counts);
  const total = n.reduce((a, b) => a + b, 0);
  return total > 0 ? round(n.reduce((s, r) => s + r - 1, 0) / total, 3) : null;
}

function stallFigures(a: MemberSample[] | undefined, b: MemberSample[], only?: (m: MemberSample) => boolean) {
  const stallMs = grew(a, b, "stallMs", only);
  const playingMs = grew(a, b, "playingMs", only);
  return {
    count: grew(a, b, "stalls", only),
    seconds: round(stallMs / 1000, 1),
    ratio: stallMs + playingMs > 0 ? round(stallMs / (stallMs + playingMs), 4) : 0,
  };
}

/** A process's CPU (% of one core) and peak memory from its own /metrics over the window. */
function processCost(points: TimelinePoint[], which: "origin" | "tracker"): { cpu: number | null; rss: number | null } {
  const scraped = points.map((p) => p[which]).filter((s) => s.values.size > 0);
  const [a, b] = [scraped[0], scraped.at(-1)];
  const prefix = `peercast_${which}_process_`;
  const rss = scraped.length ? Math.max(...scraped.map((s) => s.sum(`${prefix}resident_memory_bytes`))) : null;
  if (!a || !b || b.at <= a.at) return { cpu: null, rss };
  const cpuSec = b.sum(`${prefix}cpu_seconds_total`) - a.sum(`${prefix}cpu_seconds_total`);
  // A restarted tracker's counter began again: no figure rather than a wrong one.
  return { cpu: cpuSec >= 0 ? round((100 * cpuSec * 1000) / (b.at - a.at), 1) : null, rss };
}

/** Connections the tracker refused per address over the phase, through restarts; null without its /metrics. */
function refusedByTracker(raw: PhaseRaw): number | null {
  const scrapes = [raw.trackerBefore, ...raw.timeline.map((p) => p.tracker), raw.trackerAfter].filter((s) => s.values.size > 0);
  if (scrapes.length === 0) return null;
  const refused = new CounterSum();
  // Over the standing cap, or over the rate of new connections: both per address.
  for (const s of scrapes)
    refused.add(
      s.sum("peercast_tracker_refused_total", { reason: "connections_per_ip" }) + s.sum("peercast_tracker_refused_total", { reason: "connections_rate" }),
    );
  return refused.total;
}

function milestones(starts: StartResult[]): Record<keyof StartMilestones, number | null> {
  const keys: (keyof StartMilestones)[] = [
    "apiDoneMs",
    "masterRequestedMs",
    "mediaPlaylistDoneMs",
    "hashesDoneMs",
    "firstSegmentRequestedMs",
    "firstSegmentDoneMs",
    "secondSegmentDoneMs",
    "firstFrameMs",
  ];
  return Object.fromEntries(
    keys.map((k) => [k, summarize(starts.flatMap((s) => (s.milestones?.[k] === undefined ? [] : [s.milestones[k]]))).median]),
  ) as Record<keyof StartMilestones, number | null>;
}

/** max(1, N - sum(u) / r): what the origin must still send when every uplink is used in full. */
export function boundCopies(uplinksKbps: number[], bitrateKbps: number | null): number | null {
  if (!bitrateKbps || uplinksKbps.length === 0) return null;
  return round(Math.max(1, uplinksKbps.length - uplinksKbps.reduce((a, b) => a + b, 0) / bitrateKbps), 2);
}

/** Pairs that connected: every member counts the distinct peers it met (both ends count a pair). */
export function pairsConnectedPct(members: MemberSample[]): number | null {
  const present = members.filter((m) => m.kind !== "hostile" && !m.left);
  const n = present.length;
  if (n < 2) return null;
  const met = present.reduce((s, m) => s + Math.min(n - 1, m.stats.peersMet ?? 0), 0);
  return round((100 * met) / (n * (n - 1)), 1);
}

function netFigures(raw: PhaseRaw, end: MemberSample[]): NetFigures | null {
  if (!raw.net) return null;
  const c = raw.net.counters;
  const links = Object.values(c?.links ?? {}).flatMap((l) => [l.up, l.down]);
  return {
    profile: raw.spec.net,
    bitrateKbps: raw.net.bitrateKbps,
    boundCopies: boundCopies(raw.net.uplinksKbps, raw.net.bitrateKbps),
    pairsConnectedPct: raw.spec.transport === "p2p" ? pairsConnectedPct(end) : null,
    reach:
      raw.spec.transport === "p2p"
        ? end
            .filter((m) => m.kind !== "hostile" && !m.left)
            .map((m) => ({ id: m.id, access: m.access ?? "-", peersMet: m.stats.peersMet ?? 0, fetches: m.fetchCauses?.counts }))
        : null,
    links: {
      frames: links.reduce((n, l) => n + l.frames, 0),
      lostFrames: links.reduce((n, l) => n + l.lost, 0),
      queueDrops: links.reduce((n, l) => n + l.queueDrops, 0),
      maxQueueMs: round(Math.max(0, ...links.map((l) => l.maxQueueMs)), 1),
      latenessP99Ms: c?.switch.latenessP99Ms ?? 0,
      switchCpuPctOfCore: c && c.seconds > 0 ? round((100 * c.switch.cpuSeconds) / c.seconds, 1) : null,
    },
  };
}

export function phaseFigures(raw: PhaseRaw, stream: string): PhaseResult {
  const points = raw.timeline;
  const start = points.find((p) => p.tSec >= raw.warmupSec) ?? points[0];
  const end = points.filter((p) => p.tSec <= raw.durationSec + 1).at(-1);
  if (!start || !end) throw new Error(`${raw.label}: no samples`);
  const inWindow = points.filter((p) => p.tSec >= start.tSec && p.tSec <= end.tSec);
  const p2p = grew(start.members, end.members, "p2pBytes");
  const http = grew(start.members, end.members, "httpBytes");
  const kind = (k: MemberKind) => (m: MemberSample) => m.kind === k;
  const egressBytes = end.origin.sum("peercast_http_bytes_total", { stream }) - start.origin.sum("peercast_http_bytes_total", { stream });
  const windowSec = end.tSec - start.tSec;
  const origin = processCost(inWindow, "origin");
  const tracker = processCost(inWindow, "tracker");
  const current = (k: MemberKind) =>
    inWindow.flatMap((p) => p.members.filter((m) => m.kind === k && !m.left && m.stats.latencyMs !== undefined).map((m) => m.stats.latencyMs!));
  const finalHttp = total(raw.finalMembers, "httpBytes");
  const originBytes = raw.originAfter.sum("peercast_http_bytes_total", { stream }) - raw.originBefore.sum("peercast_http_bytes_total", { stream });
  const received = total(raw.finalMembers, "p2pBytes");
  const uploaded = total(raw.finalMembers, "uploadedBytes");
  const okStarts = raw.starts.filter((s) => s.ok);
  const renditions = byRendition(end.members);
  const copies = copiesByRendition(raw, stream);
  const audienceStartup = (k: MemberKind) =>
    summarize(end.members.filter((m) => m.kind === k && m.stats.startupMs !== undefined).map((m) => m.stats.startupMs!));
  return {
    spec: raw.spec,
    label: raw.label,
    durationSec: raw.durationSec,
    windowSec: round(windowSec, 1),
    audience: {
      chromium: end.members.filter(kind("chromium")).length,
      light: end.members.filter((m) => m.kind === "light" && !m.left).length,
      hostile: end.members.filter(kind("hostile")).length,
      lightJoined: end.members.filter(kind("light")).length,
      lightPeerHosts: raw.lightPeerHosts,
      byRendition: renditions,
      refusedByTracker: refusedByTracker(raw),
    },
    offload: {
      ...copies,
      ...lightFetches(
        start.members,
        end.members,
        Object.keys(renditions).reduce((n, r) => n + (copies.segmentsCounted[r] ?? 0), 0),
      ),
      shareFromPeers: p2p + http > 0 ? round(p2p / (p2p + http), 3) : 0,
      shareBound: shareBound(renditions),
      p2pBytes: p2p,
      httpBytes: http,
    },
    startup: {
      probesMs: summarize(okStarts.map((s) => s.startupMs!)),
      probesFailed: raw.starts.length - okStarts.length,
      probeMilestonesMs: milestones(okStarts),
      probeAbortedSegmentRequests: raw.starts.reduce((n, s) => n + (s.abortedSegmentRequests ?? 0), 0),
      audienceMs: { chromium: audienceStartup("chromium"), light: audienceStartup("light") },
      probes: raw.starts.map((s) => ({
        ok: s.ok,
        startupMs: s.startupMs ?? null,
        gotoToNavStartMs: s.gotoToNavStartMs ?? null,
        milestones: s.milestones ?? null,
      })),
    },
    stalls: {
      ...stallFigures(start.members, end.members, (m) => m.kind !== "hostile"),
      byKind: { chromium: stallFigures(start.members, end.members, kind("chromium")), light: stallFigures(start.members, end.members, kind("light")) },
      inWarmup: total(
        start.members.filter((m) => m.kind !== "hostile"),
        "stalls",
      ),
    },
    latency: {
      glassToGlassMs: summarize(raw.latency.map((s) => s.latencyMs)),
      playerReportedMs: summarize(current("chromium")),
      lightPeersMs: summarize(current("light")),
    },
    renditionSwitches: raw.renditionSwitches,
    rejectedSegments: grew(start.members, end.members, "rejectedSegments"),
    errors: [
      ...raw.finalMembers.flatMap((m) => m.errors.map((e) => `${m.id}: ${e}`)),
      ...raw.starts.filter((s) => !s.ok).map((s) => `start-up probe: ${s.error}`),
      ...raw.events.filter((e) => e.error).map((e) => `${e.what}: ${e.error}`),
      ...raw.joinErrors,
    ],
    cost: {
      originEgressBytes: egressBytes,
      originEgressMbps: windowSec > 0 ? round((egressBytes * 8) / windowSec / 1e6, 3) : 0,
      originCpuPctOfCore: origin.cpu,
      originRssMiB: mib(origin.rss),
      trackerCpuPctOfCore: tracker.cpu,
      trackerRssMiB: mib(tracker.rss),
      trackerMessagesPerSec: windowSec > 0 ? round(raw.trackerMessages / windowSec, 1) : 0,
      lightPeerHostRssMiB: mib(Math.max(0, ...points.map((p) => p.lightHostRssBytes))),
      host: raw.cpu,
    },
    net: netFigures(raw, end.members),
    reconcile: {
      clientHttpBytes: finalHttp,
      abandonedHttpBytes: raw.abandonedHttpBytes,
      originBytes,
      httpDiffPct: pctDiff(finalHttp + raw.abandonedHttpBytes, originBytes),
      p2pReceivedBytes: received,
      p2pUploadedBytes: uploaded,
      p2pDiffPct: pctDiff(received, uploaded),
    },
    timeline: points.slice(1).map((p, i) => {
      const prev = points[i]!;
      const dp = grew(prev.members, p.members, "p2pBytes");
      const dh = grew(prev.members, p.members, "httpBytes");
      const egress = p.origin.sum("peercast_http_bytes_total", { stream }) - prev.origin.sum("peercast_http_bytes_total", { stream });
      const sec = Math.max(0.1, (p.origin.at - prev.origin.at) / 1000);
      const reads = raw.latency.filter((s) => s.atMs > prev.origin.at && s.atMs <= p.origin.at).map((s) => s.latencyMs);
      return {
        tSec: p.tSec,
        shareFromPeers: dp + dh > 0 ? round(dp / (dp + dh), 3) : null,
        originEgressMbps: round((egress * 8) / sec / 1e6, 3),
        latencyMs: summarize(reads).median,
      };
    }),
    events: raw.events,
  };
}
