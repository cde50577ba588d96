// Pure player logic: latency modes against the slack rule, blocking reload URLs, the P2P policy,
// the core patches.
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { Core } from "p2p-media-loader-core";
import { test } from "node:test";
import { withoutDeliveryDirectives } from "../src/blocking-reload.js";
import { keeperRate, START_JUMP_WITHIN_MS, STALL_MEMORY_MS, StallMemory, startJump } from "../src/latency-keeper.js";
import { latencyProfile } from "../src/latency-profile.js";
import { decideP2P, REASON_TEXT, type Capabilities } from "../src/p2p-policy.js";
import { rejectPeersThatSendBadBytes } from "../src/peer-rejection.js";
import { UploadBudget } from "../src/upload-cap.js";
import { CORE_BUNDLE, importPatchedCore, loadPatchCore, type Loose } from "./support/patched-core.js";

test("both latency modes leave P2P slack; low mode sits closer to live", () => {
  for (const segment of [1, 2, 4]) {
    const balanced = latencyProfile("balanced", segment);
    const low = latencyProfile("low", segment);
    for (const p of [balanced, low]) {
      assert.ok(p.slackSec > 0, `slack ${p.slackSec} > 0 at ${segment} s segments`);
      // hls.js must be allowed to buffer up to the sync point, or it would sit at the edge.
      assert.ok(p.hls.maxBufferLength >= p.hls.liveSyncDuration);
      assert.equal(p.hls.maxMaxBufferLength, p.hls.maxBufferLength);
      assert.ok(p.hls.liveMaxLatencyDuration > p.hls.liveSyncDuration);
      assert.equal(p.slackSec, p.hls.liveSyncDuration - segment - p.core.highDemandTimeWindow);
    }
    assert.ok(low.hls.liveSyncDuration < balanced.hls.liveSyncDuration);
  }
  // With the default 2 s segments: more than one measured source handoff (~1.6 s) in balanced;
  // low gives some of it up for latency, but keeps what a relay tree on 10 Mbit/s uplinks needs.
  assert.ok(latencyProfile("balanced", 2).slackSec > 1.6);
  assert.ok(latencyProfile("low", 2).slackSec >= 1);
});

test("latency keeper: slower when too close, faster when too far, and stalls are forgotten after a quiet stretch", () => {
  assert.equal(keeperRate(1, -1), 0.9);
  assert.equal(keeperRate(1, 1), 1.08);
  assert.equal(keeperRate(1.08, 0.4), 1.08, "keeps catching up until well inside the target");
  assert.equal(keeperRate(1.08, 0.1), 1);
  // A late first frame: jump to the target at once if the buffer reaches a second past it.
  assert.equal(startJump(100, 3, 104, 2000), 103);
  assert.equal(startJump(100, 3, 103.5, 2000), undefined, "not onto the buffer's end: that would stall");
  assert.equal(startJump(100, 0.8, 110, 2000), undefined, "close enough: the rate catches up");
  assert.equal(startJump(100, 3, 110, START_JUMP_WITHIN_MS + 1), undefined, "never once the viewer is watching");
  const stalls = new StallMemory();
  assert.equal(stalls.recent(0), 0);
  stalls.stalled(1000);
  stalls.stalled(5000);
  assert.equal(stalls.recent(5000 + STALL_MEMORY_MS - 1), 2, "a viewer that keeps stalling keeps the larger target");
  assert.equal(stalls.recent(5000 + STALL_MEMORY_MS), 0);
  stalls.stalled(60_000);
  assert.equal(stalls.recent(60_001), 1, "a stall after a quiet stretch starts the count again");
});

const caps: Capabilities = { mse: true, webrtc: true, subtleCrypto: true, saveData: false, cellular: false };

test("blocking reloads: the engine sees playlist URLs without delivery directives", () => {
  const base = "https://cdn.example/hls/main/abc/360p/index.m3u8";
  assert.equal(withoutDeliveryDirectives(`${base}?_HLS_msn=12`), base);
  assert.equal(withoutDeliveryDirectives(`${base}?_HLS_msn=12&_HLS_part=0&_HLS_skip=YES`), base);
  assert.equal(withoutDeliveryDirectives(`${base}?token=x&_HLS_msn=12`), `${base}?token=x`);
  assert.equal(withoutDeliveryDirectives(base), base);
});

test("P2P policy: the first reason that applies wins, and each has a text", () => {
  assert.deepEqual(decideP2P(true, true, caps), { download: true, upload: true });
  assert.deepEqual(decideP2P(false, true, caps), { download: false, upload: false, reason: "operator" });
  assert.deepEqual(decideP2P(true, false, caps), { download: false, upload: false, reason: "viewer" });
  assert.equal(decideP2P(true, true, { ...caps, mse: false }).reason, "no-mse");
  assert.equal(decideP2P(true, true, { ...caps, webrtc: false }).reason, "no-webrtc");
  assert.deepEqual(decideP2P(true, true, { ...caps, subtleCrypto: false }), { download: false, upload: false, reason: "insecure-context" });
  assert.deepEqual(decideP2P(true, true, { ...caps, saveData: true }), { download: true, upload: false, reason: "save-data" });
  assert.deepEqual(decideP2P(true, true, { ...caps, cellular: true }), { download: true, upload: false, reason: "cellular" });
  for (const text of Object.values(REASON_TEXT)) assert.ok(text.length > 10);
});

test("the core patches apply exactly once to the pinned core, and refuse a changed one", async () => {
  const patchCore = await loadPatchCore();
  const patched = patchCore(fs.readFileSync(CORE_BUNDLE, "utf8"));
  assert.match(patched, /var RECONNECT_VARIANCE = 8 \* 1e3;/);
  assert.throws(() => patchCore("var RECONNECT_MINIMUM = 5 * 1e3;"), /tracker reconnect delay/);
  const built = fs.readFileSync(fileURLToPath(new URL("../www/player.js", import.meta.url)), "utf8");
  const reconnect = /Math\.floor\(Math\.random\(\)\*([\w$]+)\)\+Math\.min\(Math\.pow\(2,this\.retries\)\*([\w$]+),([\w$]+)\)/.exec(built);
  assert.ok(reconnect, "the reconnect timer is in the bundle");
  const value = (name: string) => new RegExp(`(?<![\\w$])${name.replace("$", "\\$")}=(\\d+)\\*1e3`).exec(built)?.[1];
  assert.deepEqual([value(reconnect[1]!), value(reconnect[2]!), value(reconnect[3]!)], ["8", "2", "60"], "the bundle carries the patched delays");
  // The seeder election: in the core and in the bundle, random seeding gone (its effect on
  // copies per segment is tested with real peers in loadtest/test/loadtest.e2e.test.ts).
  assert.match(patched, /else if \(this\.isElectedHttpSeeder\(segment, statuses, request\)\) this\.loadThroughHttp\(segment\);/);
  assert.match(patched, /loadRandomThroughHttp\(\) \{\n\t\treturn;/);
  assert.match(built, /isElectedHttpSeeder\(/);
});

test("seeder election: the tracker's slots give each segment exactly one first peer, in turn", async () => {
  const { HybridLoader, slotPlace } = await importPatchedCore();
  for (const size of [1, 2, 3, 10, 37, 100, 257]) {
    for (let segment = 1000; segment < 1040; segment++) {
      const places = Array.from({ length: size }, (_, slot) => slotPlace(slot, size, segment));
      assert.deepEqual(
        [...places].sort((a, b) => a - b),
        [...places.keys()],
        `size ${size}, segment ${segment}: one peer per place`,
      );
    }
  }
  // Every peer seeds a share: bit-reversed positions leave gaps of two sizes (one or two
  // sixteenths of the circle for 10 peers), so each of 10 slots is first for 4-16 % of segments.
  const first = new Array<number>(10).fill(0);
  for (let segment = 0; segment < 1000; segment++) first[[...first.keys()].find((slot) => slotPlace(slot, 10, segment) === 0)!]!++;
  assert.ok(
    first.every((n) => n >= 40 && n <= 160),
    `firsts per slot ${first}`,
  );

  // The election itself, on a fake loader: the first fetches at once, the second waits a step.
  const segment = { runtimeId: "r7", externalId: 7, startTime: 10, stream: { segments: new Map() } };
  const firstSlot = [...Array(4).keys()].find((slot) => slotPlace(slot, 4, 7) === 0)!;
  const elect = (slot: number) => {
    const loader = Object.assign(Object.create(HybridLoader.prototype) as Record<string, unknown>, {
      eventTarget: {},
      config: { simultaneousHttpDownloads: 2, httpErrorRetries: 3, httpDownloadInitialTimeoutMs: 0, highDemandTimeWindow: 1 },
      requests: { executingHttpCount: 0 },
      playback: { position: 5, rate: 1 },
      p2pLoaders: { currentLoader: { trackerClient: { slot, swarmSize: 4, peerId: "x", peers: () => [].values() } } },
      requestProcessQueueMicrotask: () => undefined,
    });
    const elected = HybridLoader.prototype.isElectedHttpSeeder!.call(loader, segment, { isHttpDownloadable: true, isP2PDownloadable: false }, undefined);
    clearTimeout(loader.seedTimer as NodeJS.Timeout);
    return elected;
  };
  assert.equal(elect(firstSlot), true);
  assert.equal(elect((firstSlot + 1) % 4), false);
});

test("upload-aware election: a peer with a poor uplink is not made the seeder while a better one is known", async () => {
  const { HybridLoader, slotPlace, uplinkOf } = await importPatchedCore();
  const measured = (streams: number) => {
    const eventTarget = {};
    uplinkOf(eventTarget).samples.push({ streams, at: performance.now() });
    return eventTarget;
  };
  const poor = measured(2); // one upload at a time
  const rich = measured(8);
  const leech = measured(1); // dsl: carries the stream about once

  // Four peers; the first in this segment's order has a poor uplink.
  const segment = { runtimeId: "r7", externalId: 7, startTime: 10, stream: { segments: new Map() } };
  const order = [0, 1, 2, 3].sort((a, b) => slotPlace(a, 4, 7) - slotPlace(b, 4, 7));
  const elect = (slot: number, uplink: object, peers: object[]) => {
    const loader = Object.assign(Object.create(HybridLoader.prototype) as Record<string, unknown>, {
      eventTarget: uplink,
      config: { simultaneousHttpDownloads: 2, httpErrorRetries: 3, httpDownloadInitialTimeoutMs: 0, highDemandTimeWindow: 1 },
      requests: { executingHttpCount: 0 },
      playback: { position: 5, rate: 1 },
      p2pLoaders: { currentLoader: { trackerClient: { slot, swarmSize: 4, peerId: "x", peers: () => peers.values() } } },
      requestProcessQueueMicrotask: () => undefined,
    });
    const elected = HybridLoader.prototype.isElectedHttpSeeder!.call(loader, segment, { isHttpDownloadable: true, isP2PDownloadable: false }, undefined);
    clearTimeout(loader.seedTimer as NodeJS.Timeout);
    return elected;
  };
  const poorFirst = { seedSlot: order[0], poorUplink: true };
  const richPeer = { seedSlot: order[2], poorUplink: false, seeds: true };
  assert.equal(elect(order[0]!, poor, [richPeer]), false, "the poor first steps back for a better seeder");
  assert.equal(elect(order[1]!, rich, [poorFirst, richPeer]), true, "the second fetches at once, not a step later");
  assert.equal(elect(order[2]!, rich, [poorFirst]), false, "the third still waits its step");
  assert.equal(elect(order[1]!, rich, [richPeer]), false, "without the poor flag the second waits");
  assert.equal(elect(order[0]!, poor, [poorFirst]), true, "among poor uplinks only, the order stands");
  const leechFirst = { seedSlot: order[0], poorUplink: true, leech: true };
  const poorPeer = { seedSlot: order[2], poorUplink: true, leech: false, seeds: true };
  assert.equal(elect(order[1]!, poor, [leechFirst, poorPeer]), true, "a poor uplink does not wait for a leech's turn either");
  assert.equal(elect(order[0]!, leech, [richPeer]), false, "a leech is never the seeder while a peer can seed");
  assert.equal(elect(order[3]!, leech, [leechFirst]), true, "among leeches only, each fetches at once, as without P2P");
  assert.equal(elect(order[3]!, leech, [leechFirst, { seedSlot: order[1] }]), true, "a peer not yet measured is not waited for");

  // A requester takes the segment from a poor uplink only when no better peer has or relays it.
  const { P2PLoader } = await importPatchedCore();
  const chosen: string[] = [];
  const peer = (name: string, status: string, poorUplink: boolean) => ({
    name,
    poorUplink,
    getSegmentStatus: () => status,
    downloadSegment: () => chosen.push(name),
  });
  const requester = (peers: object[]) => ({
    requests: { getOrCreateRequest: () => ({}) },
    trackerClient: { peers: () => peers.values() },
    broadcastAnnouncement: () => undefined,
  });
  for (let i = 0; i < 20; i++)
    P2PLoader.prototype.downloadSegment!.call(
      requester([peer("dsl", "loaded", true), peer("cable", "http-loading", false), peer("fiber", "http-loading", false)]),
      segment,
    );
  assert.deepEqual(new Set(chosen), new Set(["cable", "fiber"]), "relays with a good uplink before a poor one holding it whole");
  chosen.length = 0;
  P2PLoader.prototype.downloadSegment!.call(requester([peer("dsl", "loaded", true)]), segment);
  assert.deepEqual(chosen, ["dsl"], "a poor uplink still serves when it is the only one");
});

test("a download from a peer is announced as loading while it runs", async () => {
  // The load test measures what this is for (fewer origin copies in low latency); here the
  // patched core's own P2PLoader methods run against a fake swarm.
  const { P2PLoader } = await importPatchedCore();

  const segment = { runtimeId: "r7", externalId: "7" };
  const request = { segment, downloadSource: "p2p", status: "loading" };
  let broadcasts = 0;
  const loader = {
    config: { swarmId: "s" },
    eventTarget: {},
    stream: { type: "main", index: 0, segments: new Map([[segment.runtimeId, segment]]) },
    segmentStorage: { getStoredSegmentIds: () => ["6"] },
    requests: { items: () => [request].values(), httpRequests: () => [].values(), getOrCreateRequest: () => request },
    trackerClient: { peers: () => [{ getSegmentStatus: () => "loaded", downloadSegment: () => undefined }].values() },
    broadcastAnnouncement: () => broadcasts++,
  };
  P2PLoader.prototype.downloadSegment!.call(loader, segment);
  assert.equal(broadcasts, 1, "starting a download from a peer is announced");
  assert.deepEqual(P2PLoader.prototype.getSegmentsAnnouncement!.call(loader), { loaded: ["6"], httpLoading: ["7"] });
  request.status = "succeed";
  assert.deepEqual(P2PLoader.prototype.getSegmentsAnnouncement!.call(loader), { loaded: ["6"], httpLoading: [] });
});

test("a viewer whose downloads from peers were mostly cut fetches over HTTP for a while, as without P2P", async () => {
  const { HybridLoader } = await importPatchedCore();
  const segment = { runtimeId: "r7", externalId: 7, startTime: 10, stream: { segments: new Map() } };
  const loader = Object.assign(Object.create(HybridLoader.prototype) as Record<string, unknown>, {
    eventTarget: {},
    config: { simultaneousHttpDownloads: 2, httpErrorRetries: 3, httpDownloadInitialTimeoutMs: 0, highDemandTimeWindow: 1 },
    requests: { executingHttpCount: 0 },
    playback: { position: 5, rate: 1 },
    p2pLoaders: { currentLoader: { trackerClient: { slot: 1, swarmSize: 4, peerId: "x", peers: () => [].values() } } },
    requestProcessQueueMicrotask: () => undefined,
  });
  const note = (whole: boolean) => HybridLoader.prototype.noteP2POutcome!.call(loader, whole);
  const fetchesNow = () => {
    const elected = HybridLoader.prototype.isElectedHttpSeeder!.call(loader, segment, { isHttpDownloadable: true, isP2PDownloadable: true }, undefined);
    clearTimeout(loader.seedTimer as NodeJS.Timeout);
    return elected;
  };
  assert.equal(fetchesNow(), false, "a peer has it: from the peer");
  for (const whole of [false, true, false, true, false]) note(whole);
  assert.equal(fetchesNow(), false, "three cuts in six: still from peers");
  note(false);
  assert.equal(fetchesNow(), true, "four cuts in six: over HTTP at once, though a peer has it");
  (loader.p2pOffUntil as number) -= 61e3;
  assert.equal(fetchesNow(), false, "a minute later peers are tried again");
  for (let i = 0; i < 3; i++) note(false);
  assert.equal(fetchesNow(), false, "the count started again");
});

test("a transfer from a peer that will end in time is kept once its segment is urgent; one that will not, or went quiet, is not", async () => {
  const { HybridLoader } = await importPatchedCore();
  const now = performance.now();
  const loader = Object.assign(Object.create(HybridLoader.prototype) as Record<string, unknown>, { playback: { position: 100, rate: 1 } });
  const arrives = (untilPlaySec: number, o: { total?: number; quietMs?: number } = {}) =>
    HybridLoader.prototype.p2pArrivesInTime!.call(
      loader,
      // 200 000 of 250 000 bytes in 400 ms: the last 50 000 take 100 ms more at that rate.
      {
        totalBytes: o.total === undefined ? 250_000 : o.total < 0 ? undefined : o.total,
        loadedBytes: 200_000,
        progress: { startTimestamp: now - 400 - (o.quietMs ?? 0), lastLoadedChunkTimestamp: now - (o.quietMs ?? 0), loadedBytes: 200_000 },
      },
      { startTime: 100 + untilPlaySec },
    );
  assert.equal(arrives(0.45), true, "100 ms x 1.5 + 150 ms < 450 ms");
  assert.equal(arrives(0.25), false, "too close to its playback");
  assert.equal(arrives(0.45, { quietMs: 300 }), false, "no bytes for 300 ms: not relied on");
  assert.equal(arrives(0.45, { total: -1 }), false, "size unknown");
  assert.equal(arrives(0.45, { total: 1_000_000 }), false, "most of it still to come");
});

test("the upload budget: a burst is paid back at the cap's rate before upload resumes", () => {
  const b = new UploadBudget(10_000, 0, 0); // 10 KB/s, 40 KB of burst
  assert.equal(b.update(1000, 30_000), false, "within the burst");
  assert.equal(b.update(1100, 95_000), true, "one large segment: over budget");
  // 55 KB of debt at 10 KB/s: still over 5 s later, clear after about 5.5 s.
  assert.equal(b.update(6000, 95_000), true);
  assert.equal(b.update(6700, 95_000), false);
  // Idle time refills only up to the burst.
  assert.equal(b.update(60_000, 95_000), false);
  assert.equal(b.update(60_100, 140_000), true);
});

test("a failed hash check names the peer only when that peer sent every byte", async () => {
  // The core's own request: bytes a first peer sent stay when its transfer is cut, and a
  // second peer's attempt completes with them without sending any.
  const { Request$1: Request, RequestError } = await importPatchedCore();
  const named: (string | undefined)[] = [];
  const events = { getEventDispatcher: (name: string) => (e: { peerId?: string }) => name === "onSegmentError" && named.push(e.peerId) };
  const meter = { startLoading: () => undefined, stopLoading: () => undefined, addBytes: () => undefined };
  const segment = { runtimeId: "r1", externalId: 1, url: "http://x/1.ts", startTime: 0, endTime: 2, stream: { type: "main" } };
  const request = new Request(segment, () => undefined, { all: meter, http: meter }, { position: 0, rate: 1 }, {}, events);
  const controls = { abort: () => undefined };
  const fromA = request.start!({ downloadSource: "p2p", peerId: "A" }, controls) as Record<string, (...a: unknown[]) => void>;
  request.setTotalBytes!(4);
  fromA.addLoadedChunk!(new Uint8Array(4));
  fromA.abortOnError!(new RequestError("peer-closed"));
  assert.equal(
    request.tryCompleteByLoadedBytes!({ downloadSource: "p2p", peerId: "B" }, controls, async () => false, "p2p-segment-validation-failed"),
    true,
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(named, ["A", undefined], "B sent none of the bytes that failed");
  // A peer that sent them all is named.
  request.clearLoadedBytes!();
  const fromC = request.start!({ downloadSource: "p2p", peerId: "C" }, controls) as Record<string, (...a: unknown[]) => void>;
  request.setTotalBytes!(4);
  fromC.addLoadedChunk!(new Uint8Array(4));
  request.clearLoadedBytes!();
  fromC.abortOnError!(new RequestError("p2p-segment-validation-failed"));
  assert.deepEqual(named, ["A", undefined, "C"]);
});

test("a rejected peer: closed, reported to the tracker, its offers and answers refused", async () => {
  const { Core, P2PTrackerClient, WebSocketTracker } = await importPatchedCore();
  // The core remembers the id and hands it to every tracker client it has, once.
  const handed: string[] = [];
  const trackerClient = { rejectPeer: (id: string) => handed.push(id) };
  const core = { eventTarget: {}, mainStreamLoader: { p2pLoaders: { loaders: new Map([["s", { loader: { trackerClient } }]]) } } };
  Core.prototype.rejectPeer!.call(core, "BAD");
  Core.prototype.rejectPeer!.call(core, "BAD");
  assert.deepEqual(handed, ["BAD"]);
  const rejected = (core.eventTarget as { rejectedPeerIds: Set<string> }).rejectedPeerIds;
  assert.deepEqual([...rejected], ["BAD"]);

  // The tracker client that knows the peer reports it on the tracker socket and closes it.
  const bad = "-PM0203-bad-peer-idx";
  const hex = (s: string) => Buffer.from(s, "latin1").toString("hex");
  const sent: string[] = [];
  let closed = 0;
  const peers = new Map([[bad, { peer: { connection: { id: hex(bad) }, destroy: () => closed++ }, potentialConnections: new Set() }]]);
  const client = {
    _peers: peers,
    client: { _infoHashBinary: "i".repeat(20), _peerIdBinary: "m".repeat(20), _trackers: [{ socket: { connected: true, send: (m: string) => sent.push(m) } }] },
  };
  P2PTrackerClient.prototype.rejectPeer!.call(client, bad);
  assert.deepEqual(
    sent.map((m) => JSON.parse(m) as unknown),
    [{ action: "peercast_reject", info_hash: "i".repeat(20), peer_id: "m".repeat(20), offender: bad }],
  );
  await Promise.resolve();
  assert.equal(closed, 1);
  assert.equal(peers.size, 0);

  // Its offers build no connection; our pending offer it answers is dropped; others go on.
  rejected.add(bad);
  const created: string[] = [];
  const emitted: string[] = [];
  let pendingClosed = 0;
  const fakePeer = { once: () => undefined, signal: () => undefined };
  const tracker = Object.assign(Object.create(WebSocketTracker.prototype) as Record<string, unknown>, {
    client: { _infoHashBinary: "i".repeat(20), _peerIdBinary: "m".repeat(20), rejectedPeerIds: rejected, emit: (e: string) => emitted.push(e) },
    announceUrl: "ws://tracker",
    peers: { [hex("o".repeat(20))]: { destroy: () => pendingClosed++, trackerTimeout: undefined } },
    _createPeer: () => (created.push("peer"), fakePeer),
    _send: () => undefined,
  });
  const from = (peerId: string, extra: Record<string, unknown>) => ({ action: "announce", info_hash: "i".repeat(20), peer_id: peerId, ...extra });
  const onAnswer = WebSocketTracker.prototype._onAnnounceResponse!.bind(tracker);
  onAnswer(from(bad, { offer: { type: "offer", sdp: "v=0" }, offer_id: "p".repeat(20) }));
  onAnswer(from(bad, { answer: { type: "answer", sdp: "v=0" }, offer_id: "o".repeat(20) }));
  assert.deepEqual([created, emitted, pendingClosed, Object.keys(tracker.peers as object)], [[], [], 1, []]);
  onAnswer(from("-PM0203-good-peer-id", { offer: { type: "offer", sdp: "v=0" }, offer_id: "q".repeat(20) }));
  assert.deepEqual([created, emitted], [["peer"], ["peer"]], "a peer not rejected still connects");
});

test("the player rejects exactly the peers the core names for a failed hash check", () => {
  let listener: ((e: { error: { type: string }; peerId?: string }) => void) | undefined;
  const rejected: string[] = [];
  const core = { addEventListener: (_name: string, l: typeof listener) => (listener = l), rejectPeer: (id: string) => rejected.push(id) };
  rejectPeersThatSendBadBytes(core as unknown as Core);
  listener!({ error: { type: "p2p-segment-validation-failed" }, peerId: "bad" });
  listener!({ error: { type: "p2p-segment-validation-failed" }, peerId: undefined }); // bytes from several sources
  listener!({ error: { type: "peer-closed" }, peerId: "gone" });
  listener!({ error: { type: "http-segment-validation-failed" }, peerId: undefined });
  assert.deepEqual(rejected, ["bad"]);
});

test("a peer connection that does not open in time is closed and its peer reported unreachable, once per peer", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { P2PTrackerClient, EventTarget } = await importPatchedCore();
  const { EventEmitter } = await import("node:events");
  const client = new (P2PTrackerClient as unknown as new (...a: unknown[]) => Loose)(
    "swarm",
    { type: "main", index: 0 },
    { onPeerConnected: () => undefined, onSegmentRequested: () => undefined, onSegmentsAnnouncement: () => undefined },
    { announceTrackers: ["wss://tracker.invalid"], rtcConfig: {}, trackerClientVersionPrefix: "-PM0203-" },
    new EventTarget(),
  );
  const sent: Record<string, string>[] = [];
  client.client._trackers = [{ socket: { connected: true, send: (m: string) => sent.push(JSON.parse(m) as Record<string, string>) } }];
  const hex = (s: string) => Buffer.from(s, "latin1").toString("hex");
  const connection = (peer: string) => {
    const c = Object.assign(new EventEmitter(), { id: hex(peer), destroyed: 0, destroy: () => c.destroyed++ });
    client.client.emit("peer", c);
    return c;
  };
  const stuck = connection("-PM0203-symmetric-01");
  const opens = connection("-PM0203-reachable-01");
  const iceFails = connection("-PM0203-ice-failed-1");
  // Two attempts at one peer: the first failing is no verdict while the second still tries.
  const firstTry = connection("-PM0203-two-tries-01");
  opens.emit("connect");
  iceFails.emit("error", Object.assign(new Error("Ice connection failed."), { code: "ERR_ICE_CONNECTION_FAILURE" }));
  assert.deepEqual(
    sent.map((m) => m.other),
    ["-PM0203-ice-failed-1"],
  );
  t.mock.timers.tick(5_000);
  const secondTry = connection("-PM0203-two-tries-01");
  firstTry.emit("error", Object.assign(new Error("Ice connection failed."), { code: "ERR_ICE_CONNECTION_FAILURE" }));
  assert.equal(sent.length, 1);
  t.mock.timers.tick(10_000);
  assert.deepEqual(
    sent.map((m) => m.other),
    ["-PM0203-ice-failed-1", "-PM0203-symmetric-01"],
  );
  assert.deepEqual([stuck.destroyed, opens.destroyed, firstTry.destroyed], [1, 0, 1]);
  t.mock.timers.tick(5_000);
  assert.deepEqual(
    sent.map((m) => m.other),
    ["-PM0203-ice-failed-1", "-PM0203-symmetric-01", "-PM0203-two-tries-01"],
  );
  assert.equal(secondTry.destroyed, 1);
  assert.deepEqual(sent[0], {
    action: "peercast_unreachable",
    info_hash: client.client._infoHashBinary,
    peer_id: client.client._peerIdBinary,
    other: "-PM0203-ice-failed-1",
  });
  // Only the peer that connected is still known; the others may be introduced again later.
  assert.deepEqual([...client._peers.keys()], ["-PM0203-reachable-01"]);
});
