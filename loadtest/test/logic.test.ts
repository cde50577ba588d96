// The load test's logic without a system: flags, playlists, and the self-checks that make a
// toy report impossible.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import test from "node:test";
import { descendants } from "@peercast/origin/testing";
import { AUDIENCE_NICE, LIGHT_PEER_NICE, lowerPriority } from "../src/audience-priority.js";
import { parseOptions, type Options } from "../src/options.js";
import { FetchCauseCounter } from "../src/peers/fetch-causes.js";
import { parseMediaPlaylist } from "../src/peers/media-playlist.js";
import { Playhead, type TimedSegment } from "../src/peers/playhead.js";
import { latencyProfile } from "@peercast/player/latency-profile";
import { boundCopies, pairsConnectedPct, shareBound, type PhaseResult } from "../src/report/phase-figures.js";
import { compare, linkChecks, selfChecks, summaryRows } from "../src/report/report.js";
import { plotSvg } from "../src/report/plot.js";
import { abandonedHttp, countAbandonedHttp, LightPeerConnection } from "../src/peers/runtime.js";
import { PeerHost } from "../src/peers/peer-host.js";

test("flags: defaults, lists, and clear errors for bad values", () => {
  const o = parseOptions(["--viewers", "3", "--scenario", "steady,churn", "--mode", "low"]);
  assert.ok(o !== "help");
  assert.equal(o.viewers, 3);
  assert.deepEqual(o.scenario, ["steady", "churn"]);
  assert.deepEqual(o.mode, ["low"]);
  assert.equal(o.duration, 120);
  assert.equal(o.peersPerHost, 25);
  assert.deepEqual(o.transport, ["http", "p2p"]);
  assert.deepEqual((parseOptions(["--transport", "p2p"]) as typeof o).transport, ["p2p"]);
  assert.throws(() => parseOptions(["--transport", "webrtc"]), /--transport: "webrtc" is not one of http, p2p/);
  assert.equal(parseOptions(["--help"]), "help");
  assert.throws(() => parseOptions(["--peers-per-host", "0"]), /--peers-per-host: /);
  assert.throws(() => parseOptions(["--scenario", "stedy"]), /--scenario: "stedy" is not one of steady/);
  assert.throws(() => parseOptions(["--duration", "30", "--warmup", "40"]), /--warmup: must be shorter than --duration/);
  assert.throws(() => parseOptions(["--viewers", "-1"]), /--viewers/);
  const originMetrics = ["--origin-metrics", "http://127.0.0.1:8081/metrics"];
  assert.throws(() => parseOptions(["--origin", "http://127.0.0.1:8080", ...originMetrics, "--scenario", "ffmpeg-kill"]), /ffmpeg-kill need the local system/);
  // A running system's metrics are on their own listeners: given, never guessed.
  const remote = parseOptions(["--origin", "http://127.0.0.1:8080", ...originMetrics, "--tracker-metrics", "http://127.0.0.1:8001/metrics"]) as typeof o;
  assert.equal(remote.trackerMetrics, "http://127.0.0.1:8001/metrics");
  assert.equal(remote.originMetrics, "http://127.0.0.1:8081/metrics");
  assert.throws(() => parseOptions(["--origin", "http://127.0.0.1:8080"]), /--origin-metrics: required with --origin/);
  assert.throws(() => parseOptions(originMetrics), /--origin-metrics: only with --origin/);
  assert.throws(() => parseOptions(["--tracker-metrics", "http://127.0.0.1:8001/metrics"]), /--tracker-metrics: only with --origin/);
  assert.throws(() => parseOptions(["--origin", "http://127.0.0.1:8080", ...originMetrics, "--tracker-metrics", "ws://127.0.0.1:8001"]), /--tracker-metrics/);
  assert.throws(() => parseOptions(["--viewers", "0", "--peers", "0"]), /no audience/);
  assert.throws(() => parseOptions(["--frobnicate"]), /Unknown option '--frobnicate'/);
  assert.throws(() => parseOptions(["--scenario", ","]), /--scenario: empty/);
  assert.throws(() => parseOptions(["--rendition", "auto"]), /--rendition: auto needs a --ladder of two or more renditions/);
  const abr = parseOptions(["--rendition", "auto", "--ladder", "360p:640x360:800,240p:426x240:400"]);
  assert.ok(abr !== "help" && abr.rendition === "auto");
});

test("media playlist: sequence numbers, program date-times that follow on, gaps, end, blocking reload", () => {
  const text = [
    "#EXTM3U",
    "#EXT-X-TARGETDURATION:2",
    "#EXT-X-MEDIA-SEQUENCE:41",
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-25T10:00:00.000Z",
    "#EXTINF:2.000,",
    "41.ts",
    "#EXTINF:1.500,",
    "42.ts",
    "#EXT-X-GAP",
    "#EXTINF:2.000,",
    "43.ts",
    "#EXT-X-DISCONTINUITY",
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-25T10:01:00.000Z",
    "#EXTINF:2.000,",
    "44.ts",
    "#EXT-X-ENDLIST",
  ].join("\n");
  const p = parseMediaPlaylist(text, "http://127.0.0.1/hls/main/s/360p/index.m3u8");
  assert.equal(p.targetDurationSec, 2);
  assert.deepEqual(
    p.segments.map((s) => s.seq),
    [41, 42, 43, 44],
  );
  assert.equal(p.segments[0]!.url, "http://127.0.0.1/hls/main/s/360p/41.ts");
  assert.equal(p.segments[1]!.pdtMs - p.segments[0]!.pdtMs, 2000);
  assert.equal(p.segments[2]!.gap, true);
  assert.equal(p.segments[3]!.pdtMs, Date.parse("2026-11-25T10:01:00.000Z"));
  assert.equal(p.ended, true);
  assert.equal(p.canBlockReload, false);
  const blocking = text.replace("#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12,CAN-BLOCK-RELOAD=YES");
  assert.equal(parseMediaPlaylist(blocking, "http://x/").canBlockReload, true);
  assert.throws(() => parseMediaPlaylist("<html>", "http://x/"), /not an HLS playlist/);
});

function phase(
  transport: "p2p" | "http",
  o: Partial<{ copies: number; share: number; p2p: number; sent: number; http: number; origin: number; latency: number; high: boolean }> = {},
): PhaseResult {
  const summary = (v: number | null) => ({ n: v === null ? 0 : 20, median: v, p95: v, min: v, max: v });
  return {
    spec: { net: "lan", scenario: "steady", mode: "balanced", transport, round: 1 },
    label: `steady balanced ${transport}`,
    durationSec: 60,
    windowSec: 40,
    audience: { chromium: 1, light: 4, hostile: 0, lightJoined: 4, lightPeerHosts: 1, byRendition: { "360p": 5 }, refusedByTracker: 0 },
    offload: {
      copiesPerSegment: { "360p": o.copies ?? 1.1 },
      segmentsCounted: { "360p": 15 },
      lightFetchesPerSegment: null,
      lightElectedWaitMs: null,
      lightAfterPeer: null,
      shareFromPeers: o.share ?? (transport === "p2p" ? 0.7 : 0),
      shareBound: 0.8,
      p2pBytes: 0,
      httpBytes: 0,
    },
    startup: {
      probesMs: summary(transport === "p2p" ? 2100 : 2000),
      probesFailed: 0,
      probeMilestonesMs: {
        apiDoneMs: 1,
        masterRequestedMs: 2,
        mediaPlaylistDoneMs: 3,
        hashesDoneMs: 3,
        firstSegmentRequestedMs: 3,
        firstSegmentDoneMs: 4,
        secondSegmentDoneMs: 5,
        firstFrameMs: 6,
      },
      probeAbortedSegmentRequests: 0,
      audienceMs: { chromium: summary(null), light: summary(null) },
      probes: [],
    },
    stalls: {
      count: 0,
      seconds: 0,
      ratio: 0,
      byKind: { chromium: { count: 0, seconds: 0, ratio: 0 }, light: { count: 0, seconds: 0, ratio: 0 } },
      inWarmup: 0,
    },
    latency: { glassToGlassMs: summary(o.latency ?? 8000), playerReportedMs: summary(null), lightPeersMs: summary(null) },
    renditionSwitches: 0,
    rejectedSegments: 0,
    errors: [],
    cost: {
      originEgressBytes: 1,
      originEgressMbps: 1,
      originCpuPctOfCore: 5,
      originRssMiB: 100,
      trackerCpuPctOfCore: 1,
      trackerRssMiB: 80,
      trackerMessagesPerSec: 1,
      lightPeerHostRssMiB: 100,
      host: { avgPct: o.high ? 95 : 50, peakPct: 60, secondsOverPct: 0, high: o.high ?? false, byGroupPct: {} },
    },
    reconcile: {
      clientHttpBytes: o.http ?? 1000,
      abandonedHttpBytes: 0,
      originBytes: o.origin ?? 1000,
      httpDiffPct: o.origin ? Math.round((100 * ((o.http ?? 1000) - o.origin)) / o.origin) : 0,
      p2pReceivedBytes: o.p2p ?? (transport === "p2p" ? 500 : 0),
      p2pUploadedBytes: o.sent ?? (transport === "p2p" ? 500 : 0),
      p2pDiffPct: o.sent ? Math.round((100 * ((o.p2p ?? 500) - o.sent)) / o.sent) : 0,
    },
    net: null,
    timeline: [
      { tSec: 2, shareFromPeers: 0.5, originEgressMbps: 1, latencyMs: 6000 },
      { tSec: 4, shareFromPeers: null, originEgressMbps: 2, latencyMs: null },
    ],
    events: [],
  };
}

test("emulated links: the fluid bound, pairs connected, the summary rows and the --net flags", () => {
  // 10 viewers with 1 Mbit/s up each on a 930 kbit/s rendition: the uplinks carry it all.
  assert.equal(boundCopies(Array(10).fill(1000), 930), 1);
  // Half the bitrate up: the origin sends about half the audience's copies.
  assert.equal(boundCopies(Array(10).fill(465), 930), 5);
  assert.equal(boundCopies([], 930), null);
  assert.equal(boundCopies([1000], null), null);
  const member = (id: string, peersMet: number | undefined, left = false) => ({ id, kind: "light" as const, left, errors: [], stats: { peersMet } as never });
  // Four members: 12 directed pairs; three met everyone, one met only two (a pair failed).
  assert.equal(pairsConnectedPct([member("a", 3), member("b", 3), member("c", 3), member("d", 2)]), 91.7);
  assert.equal(pairsConnectedPct([member("a", 7), member("b", 1), member("gone", 5, true)]), 100, "capped at the others present");
  assert.equal(pairsConnectedPct([member("a", 0)]), null);
  const p = {
    ...phase("p2p", { copies: 1.2 }),
    spec: { net: "cable" as const, scenario: "steady" as const, mode: "low" as const, transport: "p2p" as const, round: 2 },
  };
  p.net = {
    profile: "cable",
    bitrateKbps: 930,
    boundCopies: 1,
    pairsConnectedPct: 100,
    reach: null,
    links: { frames: 10, lostFrames: 0, queueDrops: 0, maxQueueMs: 3, latenessP99Ms: 7.5, switchCpuPctOfCore: 12 },
  };
  const [row] = summaryRows([p], "360p");
  assert.deepEqual(row, {
    profile: "cable",
    mode: "low",
    transport: "p2p",
    round: 2,
    viewers: 1,
    lightPeers: 4,
    rendition: "360p",
    bitrateKbps: 930,
    copiesPerSegment: 1.2,
    boundCopies: 1,
    sharePct: 70,
    latencyMedianS: 8,
    latencyP95S: 8,
    stallRatioPct: 0,
    startupMedianMs: 2100,
    pairsConnectedPct: 100,
    hostCpuPct: 50,
  });
  const checks = linkChecks([], [p]);
  assert.equal(checks.length, 1);
  assert.equal(checks[0]!.ok, false, "a switch 7.5 ms late (p99) fails its check");
  const o = parseOptions(["--net", "lan,cable,mix-nat", "--seed", "7"]) as Options;
  assert.deepEqual(o.net, ["lan", "cable", "mix-nat"]);
  assert.equal(o.seed, 7);
  assert.deepEqual((parseOptions([]) as Options).net, ["lan"]);
  assert.throws(() => parseOptions(["--net", "satellite"]), /--net: "satellite" is not one of lan, fiber/);
  assert.throws(
    () => parseOptions(["--origin", "http://127.0.0.1:8080", "--origin-metrics", "http://127.0.0.1:8081/metrics", "--net", "cable"]),
    /--net: emulated links need the own system/,
  );
});

test("light peers' playhead: a stall adds a second of latency, given back once playback has been smooth", () => {
  const { hls } = latencyProfile("low", 2);
  /** Latency every 10 s and at the end, with one segment reaching the peer 1.5 s after it is listed, or none. */
  const play = (late: number | undefined) => {
    const playhead = new Playhead();
    const listed = new Map<number, TimedSegment>();
    const latencyAt: Record<number, number> = {};
    for (let now = 0; now <= 90_000; now += 100) {
      if (now % 2000 === 0 && now > 0) {
        const seq = now / 2000 - 1;
        const entry = { segment: { seq, url: `s${seq}`, durationSec: 2, pdtMs: seq * 2000, gap: false }, startSec: seq * 2, endSec: seq * 2 + 2 };
        listed.set(seq, entry);
        playhead.edgeMoved(entry, now, hls.liveSyncDuration);
        if (seq !== late) playhead.buffer(entry);
      }
      if (late !== undefined && now === (late + 1) * 2000 + 1500) playhead.buffer(listed.get(late)!);
      playhead.advance(now, listed, hls);
      if (now % 10_000 === 0) latencyAt[now / 1000] = playhead.figures(now).latencyMs!;
    }
    return { latencyAt, end: playhead.figures(90_000) };
  };
  const [smooth, stalled] = [play(undefined), play(5)];
  assert.equal(smooth.end.stalls, 0);
  assert.equal(stalled.end.stalls, 1);
  assert.ok(stalled.latencyAt[30]! > smooth.latencyAt[30]! + 800, `after the stall ${stalled.latencyAt[30]} ms, without one ${smooth.latencyAt[30]} ms`);
  assert.ok(
    Math.abs(stalled.end.latencyMs! - smooth.end.latencyMs!) < 500,
    `back near the target: ${stalled.end.latencyMs} ms, without a stall ${smooth.end.latencyMs} ms`,
  );
});

test("light peers' origin fetches by cause: alone, after a try from a peer, elected ahead of the urgent window, urgent", () => {
  const counter = new FetchCauseCounter();
  const at = (connectedPeers: number, aheadSec: number | undefined) => ({ connectedPeers, aheadSec, urgentSec: 1, sinceListedMs: 100 });
  counter.started("a", "http", at(0, 3)); // no peer yet: alone, however far ahead
  counter.started("b", "http", at(2, 3)); // ahead of the urgent window: the election's pick
  counter.started("c", "http", at(2, 0.8)); // urgent, never tried from a peer
  counter.started("d", "http", at(2, undefined)); // before the first frame: the player waits on it
  counter.started("e", "p2p", at(2, 3));
  counter.peerTryEnded("e", "abort");
  counter.started("e", "http", at(2, 0.5)); // the peer's transfer was cut or switched
  counter.started("f", "p2p", at(2, 3));
  counter.peerTryEnded("f", "peer-uploads-full");
  counter.started("f", "p2p", at(2, 2)); // tried again: its own ending counts, not the first's
  counter.peerTryEnded("f", "bytes-receiving-timeout");
  counter.started("f", "http", at(2, 0.25));
  counter.peerTryEnded("g", "abort"); // never tried from a peer: nothing to count
  assert.deepEqual(counter.counts, { alone: 1, elected: 1, urgent: 2, afterPeer: 2 });
  assert.deepEqual(counter.waitMs, { alone: 100, elected: 100, urgent: 200, afterPeer: 200 });
  assert.deepEqual(counter.figures().afterPeerEnds, { cut: 1, busy: 0, absent: 0, quiet: 1, closed: 0, other: 0 });
  assert.equal(counter.afterPeerAheadMs, 750);
  // Old tries are forgotten (bounded memory): a segment tried long ago counts as never tried.
  for (let i = 0; i < 100; i++) counter.started(`old-${i}`, "p2p", at(2, 3));
  counter.started("e", "http", at(2, 0.5));
  assert.equal(counter.counts.urgent, 3);
});

test("ABR: the share peers can give is one origin copy short per rendition watched", () => {
  assert.equal(shareBound({ "360p": 10 }), 0.9);
  assert.equal(shareBound({ "360p": 7, "240p": 3 }), 0.8);
  assert.equal(shareBound({ "360p": 1, "240p": 1 }), 0, "alone on each rendition: nothing to share");
  assert.equal(shareBound({}), null);
});

test("self-checks pass for a consistent run and catch each kind of toy figure", () => {
  assert.ok(selfChecks([phase("http"), phase("p2p")], 2).every((c) => c.ok));
  const failed = (p: PhaseResult) =>
    selfChecks([p], 2)
      .filter((c) => !c.ok)
      .map((c) => c.name);
  assert.deepEqual(failed(phase("p2p", { copies: 0.8 })), ["origin copies per segment >= 1.0 (360p)"]);
  assert.deepEqual(failed(phase("p2p", { http: 900, origin: 1000 })), ["HTTP bytes reconcile with the origin (within 2 %)"]);
  assert.deepEqual(failed(phase("p2p", { p2p: 600, sent: 500 })), ["peer bytes received reconcile with bytes sent (within 2 %)"]);
  assert.deepEqual(failed(phase("http", { p2p: 10 })), ["HTTP-only share from peers is 0"]);
  assert.deepEqual(failed(phase("p2p", { latency: 1500 })), ["latency is more than one segment"]);
  // Nothing measured is not a pass.
  assert.deepEqual(failed(phase("p2p", { p2p: 0, sent: 0 })), ["peer bytes received reconcile with bytes sent (within 2 %)"]);
  assert.deepEqual(failed(phase("http", { http: 0, origin: 0 })), ["HTTP bytes reconcile with the origin (within 2 %)"]);
  const uncounted = phase("p2p");
  uncounted.offload.copiesPerSegment = {};
  assert.deepEqual(failed(uncounted), ["origin copies per segment >= 1.0"]);
  const crowded = phase("p2p");
  crowded.audience.refusedByTracker = 36;
  assert.deepEqual(failed(crowded), ["the tracker refused no member's connection"]);
});

test("comparison: medians over rounds, busy-host rounds left out, ratios", () => {
  const rounds = [phase("p2p", { copies: 1.2 }), phase("p2p", { copies: 1.4 }), phase("p2p", { copies: 9, high: true }), phase("http", { copies: 5 })];
  const [c] = compare(rounds);
  assert.equal(c!.leftOut.p2p, 1);
  assert.equal(c!.p2p.copiesPerSegment["360p"], 1.3);
  assert.equal(c!.ratios.startupMedian, 1.05);
  assert.equal(c!.ratios.startupDiffMs, 100);
  const svg = plotSvg("t", rounds);
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<path /g) ?? []).length, 8); // two charts, four phases each
  // --transport p2p: no baseline, so nothing to compare with, and no made-up figures.
  const [alone] = compare(rounds.filter((p) => p.spec.transport === "p2p"));
  assert.equal(alone!.p2p.copiesPerSegment["360p"], 1.3);
  assert.deepEqual([alone!.http.copiesPerSegment, alone!.http.startupMedianMs, alone!.ratios.startupMedian], [{}, null, null]);
});

test("light peers' fetch: what an aborted download leaves unread counts as abandoned, a full read nothing", async () => {
  const body = Buffer.alloc(1 << 20, 7); // larger than one chunk, smaller than loopback's buffers
  const server = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x.ts`;
  try {
    countAbandonedHttp();
    const full = await fetch(new Request(url, { signal: new AbortController().signal }));
    assert.equal((await full.arrayBuffer()).byteLength, body.length);
    assert.equal(abandonedHttp.bytes, 0);

    const abort = new AbortController();
    const res = await fetch(new Request(url, { signal: abort.signal }));
    const first = await res.body!.getReader().read();
    abort.abort();
    assert.ok(first.value && first.value.byteLength < body.length);
    assert.equal(abandonedHttp.bytes, body.length - first.value.byteLength);
  } finally {
    server.close();
  }
});

test("light peers' WebRTC: the candidate list ends (a null candidate), as browsers end it", { timeout: 10_000 }, async () => {
  // simple-peer waits for that end, up to 5 s per offer and per answer, before it signals.
  const pc = new LightPeerConnection();
  try {
    const seen: string[] = [];
    const ended = new Promise<void>((resolve) => {
      pc.onicecandidate = (e) => {
        seen.push(e.candidate ? "candidate" : "end");
        if (!e.candidate) resolve();
      };
    });
    pc.createDataChannel("x");
    await pc.setLocalDescription(await pc.createOffer());
    await ended;
    assert.deepEqual(seen, ["candidate", "end"]);
  } finally {
    pc.close();
  }
});

test("the audience's priority: a process in a session of its own is lowered as a group, the load test's own group never", async () => {
  const child = spawn("setsid", ["sleep", "30"], { stdio: "ignore" });
  let pid: number | undefined;
  try {
    // setsid forks when it leads a group already; the sleep is then its child.
    for (let i = 0; i < 50 && pid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      pid = [child.pid!, ...descendants(child.pid!)].find((p) => fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "sleep");
    }
    assert.ok(pid, "the sleep started");
    const own = fs.readFileSync("/proc/self/autogroup", "utf8");
    assert.notEqual(fs.readFileSync(`/proc/${pid}/autogroup`, "utf8").split(" ")[0], own.split(" ")[0], "a session of its own: its own autogroup");
    lowerPriority(pid);
    assert.match(fs.readFileSync(`/proc/${pid}/autogroup`, "utf8"), new RegExp(`nice ${AUDIENCE_NICE}\\b`));
    assert.equal(os.getPriority(pid), AUDIENCE_NICE);
    // A process in the load test's own group: its threads only, never the group's weight.
    const sibling = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      lowerPriority(sibling.pid);
      assert.equal(os.getPriority(sibling.pid), AUDIENCE_NICE);
      assert.equal(fs.readFileSync("/proc/self/autogroup", "utf8"), own, "the load test's group (the system under test) keeps its weight");
    } finally {
      sibling.kill();
    }
  } finally {
    child.kill();
    if (pid !== undefined && pid !== child.pid) process.kill(pid);
  }
});

test("a light-peer host weighs less than an audience browser: a lowered session of its own", async () => {
  const host = new PeerHost();
  try {
    const own = fs.readFileSync("/proc/self/autogroup", "utf8").split(" ")[0];
    const group = fs.readFileSync(`/proc/${host.pid}/autogroup`, "utf8");
    assert.notEqual(group.split(" ")[0], own, "an autogroup of its own");
    assert.match(group, new RegExp(`nice ${LIGHT_PEER_NICE}\\b`));
    assert.ok(LIGHT_PEER_NICE > AUDIENCE_NICE, "below the browsers");
    assert.equal((await host.snapshot()).peers.length, 0, "and it answers over IPC");
  } finally {
    await host.stop();
  }
});
