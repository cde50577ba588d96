// The core patches that pass a segment on while it arrives (cut-through relay) and cap a peer's
// uploads at once (upload slots): the patched core's own peers, loaders and requests, several
// in one process, joined by in-memory connections instead of WebRTC data channels.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { importPatchedCore, type Loose, type PatchedCore } from "./support/patched-core.js";

const SIZE = 250_000;
const MEDIA = Uint8Array.from({ length: SIZE }, (_, i) => (i * 7 + (i >> 9)) & 255);
const MEDIA_SHA = createHash("sha256").update(MEDIA).digest("hex");
const hex = (s: string) => Buffer.from(s, "latin1").toString("hex");
/** Lets every message in flight arrive (each hop is a setImmediate). */
const settle = async () => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
};

/**
 * One end of an in-memory connection, as simple-peer's is to the core: `id` is the other
 * peer's id (hex), messages arrive in order a turn later. While `held`, writes report
 * backpressure and what is written waits until `release()` (an uplink that is full).
 */
class End extends EventEmitter {
  other!: End;
  destroyed = false;
  held = false;
  private waiting: Uint8Array[] = [];
  constructor(
    readonly id: string,
    readonly idUtf8: string,
  ) {
    super();
  }

  write(data: ArrayBuffer | Uint8Array): boolean {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data.slice(0)) : new Uint8Array(data);
    if (this.held) {
      this.waiting.push(bytes);
      return false;
    }
    setImmediate(() => !this.other.destroyed && this.other.emit("data", bytes));
    return true;
  }

  release(): void {
    this.held = false;
    for (const bytes of this.waiting.splice(0)) setImmediate(() => !this.other.destroyed && this.other.emit("data", bytes));
    setImmediate(() => this.emit("drain"));
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
    this.other.destroy();
  }
}

interface Node {
  name: string;
  loader: Loose;
  requests: Loose;
  segment: Loose;
  storage: Map<number, ArrayBuffer>;
  errors: { type: string; peerId?: string }[];
  /** This node's end of its connection to each other node, by name. */
  ends: Map<string, End>;
}

const PEER_IDS: Record<string, string> = { S: "-PM0203-seeder-00000", Q1: "-PM0203-viewer-11111", Q2: "-PM0203-viewer-22222", Q3: "-PM0203-viewer-33333" };

function makeNode(core: PatchedCore, name: string): Node {
  const eventTarget = new core.EventTarget();
  const errors: Node["errors"] = [];
  eventTarget.addEventListener("onSegmentError", (e: { error: { type: string }; peerId?: string }) => errors.push({ type: e.error.type, peerId: e.peerId }));
  const stream: Loose = { type: "main", index: 0, segments: new Map() };
  const segment = { runtimeId: "seg-7", externalId: 7, url: "http://origin/hls/360p/7.ts", startTime: 14, endTime: 16, stream };
  stream.segments.set(segment.runtimeId, segment);
  const storage = new Map<number, ArrayBuffer>();
  const segmentStorage = {
    getSegmentData: async (_swarm: string, _stream: string, id: number) => storage.get(id),
    getStoredSegmentIds: () => [...storage.keys()],
    setSegmentChangeCallback: () => undefined,
  };
  const config = {
    announceTrackers: [],
    rtcConfig: {},
    trackerClientVersionPrefix: "-PM0203-",
    swarmId: "swarm",
    p2pNotReceivingBytesTimeoutMs: 30_000,
    p2pErrorRetries: 3,
    webRtcMaxMessageSize: 64 * 1024 - 1,
    isP2PUploadDisabled: false,
    // The whole segment, checked as the player checks it (player/src/integrity.ts).
    validateP2PSegment: async (_url: string, _range: unknown, data: ArrayBuffer) =>
      createHash("sha256").update(new Uint8Array(data)).digest("hex") === MEDIA_SHA,
  };
  const meter = { startLoading: () => undefined, stopLoading: () => undefined, addBytes: () => undefined };
  const requests = new core.RequestsContainer(() => undefined, { all: meter, http: meter }, { position: 10, rate: 1 }, config, eventTarget);
  const loader = new core.P2PLoader("http://origin/master.m3u8", stream, requests, segmentStorage, config, eventTarget, () => undefined);
  return { name, loader, requests, segment, storage, errors, ends: new Map() };
}

/** Connects two nodes as the tracker client does once a data channel opens. */
function connect(a: Node, b: Node): void {
  const ab = new End(hex(PEER_IDS[b.name]!), PEER_IDS[b.name]!);
  const ba = new End(hex(PEER_IDS[a.name]!), PEER_IDS[a.name]!);
  ab.other = ba;
  ba.other = ab;
  a.ends.set(b.name, ab);
  b.ends.set(a.name, ba);
  for (const [node, end] of [
    [a, ab],
    [b, ba],
  ] as const) {
    node.loader.trackerClient.onReceivePeerConnection(end);
    end.emit("connect");
  }
}

/** A download over HTTP as the core's HTTP executor drives one: started, size known. */
function httpDownload(node: Node): Loose {
  const request = node.requests.getOrCreateRequest(node.segment);
  const controls = request.start({ downloadSource: "http" }, { abort: () => undefined });
  request.setTotalBytes(SIZE);
  controls.firstBytesReceived();
  return { request, controls };
}

const request = (node: Node) => node.requests.get(node.segment);

test("cut-through relay: a peer passes a segment on while it arrives, completed only once its own check passed", async () => {
  const core = await importPatchedCore();
  const [s, q] = [makeNode(core, "S"), makeNode(core, "Q1")];
  connect(s, q);
  const { controls } = httpDownload(s);
  controls.addLoadedChunk(MEDIA.slice(0, 100_000));
  s.loader.broadcastAnnouncement();
  // The requester already has the first 40 000 bytes from a transfer that was cut.
  const cut = q.requests.getOrCreateRequest(q.segment);
  const fromGone = cut.start({ downloadSource: "p2p", peerId: "gone" }, { abort: () => undefined });
  cut.setTotalBytes(SIZE);
  fromGone.addLoadedChunk(MEDIA.slice(0, 40_000));
  fromGone.abortOnError(new core.RequestError("peer-closed"));
  await settle();

  q.loader.downloadSegment(q.segment);
  await settle();
  assert.equal(request(q)?.status, "loading", "asked the peer that is receiving the segment");
  assert.equal(request(q).loadedBytes, 100_000, "resumed at its byte 40 000 and got what the relay had");
  controls.addLoadedChunk(MEDIA.slice(100_000));
  await settle();
  assert.equal(request(q).loadedBytes, SIZE);
  assert.equal(request(q).status, "loading", "not complete before the relay's own download passed its check");
  controls.completeOnSuccess();
  await settle();
  assert.equal(request(q).status, "succeed");
  assert.deepEqual(new Uint8Array(request(q).data), MEDIA, "the whole segment, checked by the requester");
  assert.deepEqual(q.errors.slice(1), []);
  // Fed over HTTP, the relay went at its own uplink's pace: it measured it.
  assert.ok(core.uplinkStreams(s.loader.eventTarget)! > 0);
  assert.equal(core.uplinkStreams(q.loader.eventTarget), undefined);
  s.loader.destroy();
  q.loader.destroy();
});

test("cut-through relay: when the relay's own download fails its check, the requester drops the bytes and blames nobody", async () => {
  const core = await importPatchedCore();
  const [s, q] = [makeNode(core, "S"), makeNode(core, "Q1")];
  connect(s, q);
  const { request: relayed, controls } = httpDownload(s);
  const bad = MEDIA.slice(0, 120_000);
  bad[5000] = (bad[5000] ?? 0) ^ 1;
  controls.addLoadedChunk(bad);
  s.loader.broadcastAnnouncement();
  await settle();
  q.loader.downloadSegment(q.segment);
  await settle();
  assert.equal(request(q).loadedBytes, 120_000);
  // The relay's check fails as the HTTP executor's does: its bytes go, the attempt fails.
  relayed.clearLoadedBytes();
  controls.abortOnError(new core.RequestError("http-segment-validation-failed"));
  await settle();
  assert.equal(request(q).status, "failed");
  assert.equal(request(q).loadedBytes, 0, "what the relay sent is dropped");
  assert.deepEqual(q.errors, [{ type: "peer-segment-absent", peerId: PEER_IDS.S }], "no hash failure, so nobody is rejected");
  assert.equal(q.loader.isSegmentLoadingOrLoadedBySomeone(q.segment), false, "not asked again until it announces anew");
  s.loader.destroy();
  q.loader.destroy();
});

test("upload slots: a peer serves two uploads at once; a third requester takes the segment from a relay and still counts the peer as having it", async () => {
  const core = await importPatchedCore();
  const nodes = ["S", "Q1", "Q2", "Q3"].map((name) => makeNode(core, name));
  const [s, q1, q2, q3] = nodes as [Node, Node, Node, Node];
  for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) connect(nodes[i]!, nodes[j]!);
  s.storage.set(7, MEDIA.slice().buffer);
  // An uplink measured at 5 Mbit/s (a 2 s segment of 250 kB is 1 Mbit/s): two slots.
  core.measureUplink(s.loader.eventTarget, { startTime: 14, endTime: 16 }, SIZE, SIZE, 400);
  s.loader.broadcastAnnouncement();
  await settle();
  // S's uplink to Q1 and Q2 fills after the first data message on each.
  const toQ1Q2 = [s.ends.get("Q1")!, s.ends.get("Q2")!];
  for (const end of toQ1Q2) end.held = true;
  q1.loader.downloadSegment(q1.segment);
  q2.loader.downloadSegment(q2.segment);
  await settle();
  for (const end of toQ1Q2) end.release();
  for (const end of toQ1Q2) end.held = true;
  await settle();
  assert.equal(request(q1).loadedBytes, 16 * 1024, "one data message so far");
  q3.loader.downloadSegment(q3.segment);
  await settle();
  assert.equal(request(q3).status, "failed");
  assert.deepEqual(q3.errors, [{ type: "peer-uploads-full", peerId: PEER_IDS.S }]);
  const q3s = [...q3.loader.trackerClient.peers()].find((p: Loose) => p.id === PEER_IDS.S);
  assert.equal(q3s.getSegmentStatus(q3.segment), "loaded", "the busy peer still has the segment");
  // Next turn of the engine's queue: S is left alone for now; Q1 or Q2 relays it.
  q3.loader.downloadSegment(q3.segment);
  await settle();
  assert.equal(request(q3).status, "loading");
  const relay = request(q3).currentAttempt.peerId;
  assert.ok(relay === PEER_IDS.Q1 || relay === PEER_IDS.Q2, `from a relay, not ${relay}`);
  assert.equal(request(q3).loadedBytes, 16 * 1024);
  for (let i = 0; i < 40; i++) {
    for (const end of toQ1Q2) end.release();
    await settle();
  }
  for (const q of [q1, q2, q3]) {
    assert.equal(request(q).status, "succeed", q.name);
    assert.deepEqual(new Uint8Array(request(q).data), MEDIA, q.name);
  }
  for (const n of nodes) n.loader.destroy();
});

test("upload slots follow the measured uplink: none below 1.3 streams, one below 2.6", async () => {
  const core = await importPatchedCore();
  const { uploadSlots, poorUplink, measureUplink, uplinkOf, uplinkStreams } = core;
  const segment = { startTime: 14, endTime: 16 }; // 2 s of 250 kB: 1 Mbit/s
  // A requester's report of one upload of the whole segment at `bytesPerSec`.
  const upload = (eventTarget: object, bytesPerSec: number) => measureUplink(eventTarget, segment, SIZE, SIZE, (SIZE / bytesPerSec) * 1e3);
  const dsl = {};
  assert.equal(uploadSlots(dsl), 1, "one until a first upload measures it");
  assert.equal(poorUplink(dsl), false, "and it seeds in its turn: not known to be poor");
  // Alone on a 1 Mbit/s uplink: the stream once, a leech.
  upload(dsl, 125_000);
  assert.ok(Math.abs(uplinkStreams(dsl)! - 1) < 0.01, `${uplinkStreams(dsl)}`);
  assert.equal(uploadSlots(dsl), 0);
  // 2 Mbit/s: one at a time.
  const twice = {};
  upload(twice, 250_000);
  assert.equal(uploadSlots(twice), 1);
  // Sharing a 10 Mbit/s uplink with another upload: 5 Mbit/s.
  const cable = {};
  upload(cable, 625_000);
  assert.equal(uploadSlots(cable), 2);
  // The best recent upload counts: one to a receiver on a slow path does not make the uplink poor.
  upload(cable, 60_000);
  assert.equal(uploadSlots(cable), 2);
  // A short one says nothing; a slow one says enough when it ran half a second (cut on dsl).
  measureUplink(cable, segment, SIZE, 20_000, 100);
  assert.equal(uplinkOf(cable).samples.length, 2);
  const cut = {};
  measureUplink(cut, segment, SIZE, 20_000, 600);
  assert.equal(uploadSlots(cut), 0);
  // Only the last four count, and none older than two minutes: a leech measures again.
  for (let i = 0; i < 4; i++) upload(cable, 60_000);
  assert.equal(uploadSlots(cable), 0);
  for (const sample of uplinkOf(dsl).samples) sample.at -= 121e3;
  assert.equal(uploadSlots(dsl), 1, "forgotten: tried again, one upload at a time");

  // A seeder whose uplink measured two streams serves Q1 and tells Q2 its uploads are full (Q2
  // knows no other peer: it would take the segment from Q1's relay before a poor uplink).
  const nodes = ["S", "Q1", "Q2"].map((name) => makeNode(core, name));
  const [s, q1, q2] = nodes as [Node, Node, Node];
  connect(s, q1);
  connect(s, q2);
  s.storage.set(7, MEDIA.slice().buffer);
  upload(s.loader.eventTarget, 250_000);
  s.loader.broadcastAnnouncement();
  await settle();
  const toQ1 = s.ends.get("Q1")!;
  toQ1.held = true;
  q1.loader.downloadSegment(q1.segment);
  await settle();
  q2.loader.downloadSegment(q2.segment);
  await settle();
  assert.equal(request(q1).status, "loading");
  assert.deepEqual(q2.errors, [{ type: "peer-uploads-full", peerId: PEER_IDS.S }]);
  // Q1's report of the upload, stored and now fast, measures the uplink again.
  for (let i = 0; i < 20 && request(q1).status !== "succeed"; i++) {
    toQ1.release();
    await settle();
  }
  assert.equal(request(q1).status, "succeed");
  assert.ok(uplinkStreams(s.loader.eventTarget)! > 2, "measured from the upload just served");
  for (const n of nodes) n.loader.destroy();

  // An upload the requester cuts measures the uplink from what arrived until then, as its
  // requester reports it (the sender's own count would end in its send buffers).
  const [s2, q3] = [makeNode(core, "S"), makeNode(core, "Q3")];
  connect(s2, q3);
  s2.storage.set(7, MEDIA.slice().buffer);
  s2.loader.broadcastAnnouncement();
  await settle();
  const toQ3 = s2.ends.get("Q3")!;
  toQ3.held = true;
  q3.loader.downloadSegment(q3.segment);
  await settle();
  for (let i = 0; i < 12; i++) {
    toQ3.release();
    toQ3.held = true; // one message per drain: a full uplink
    await settle();
  }
  assert.equal(request(q3).status, "loading");
  assert.equal(uplinkStreams(s2.loader.eventTarget), undefined, "nothing measured while it runs");
  const delivered = request(q3).loadedBytes as number;
  assert.ok(delivered > 64 * 1024, `${delivered}`);
  request(q3).abortFromProcessQueue();
  await settle();
  assert.ok(uplinkStreams(s2.loader.eventTarget)! > 0, "measured when cut");
  for (const n of [s2, q3]) n.loader.destroy();
});

test("upload-aware election: announcements carry the peer's slot and whether its uplink is poor or a leech's", async () => {
  const core = await importPatchedCore();
  const [dsl, cable] = [makeNode(core, "Q1"), makeNode(core, "Q2")];
  connect(dsl, cable);
  await settle();
  dsl.loader.trackerClient.slot = 4;
  dsl.storage.set(7, MEDIA.slice().buffer);
  const measured = (streams: number) => (core.uplinkOf(dsl.loader.eventTarget).samples = [{ streams, at: performance.now() }]);
  dsl.loader.broadcastAnnouncement();
  await settle();
  const seen = [...cable.loader.trackerClient.peers()][0];
  assert.equal(seen.seedSlot, 4);
  assert.deepEqual([seen.poorUplink, seen.leech, seen.seeds], [false, false, false], "not measured yet");
  measured(2); // one upload at a time
  dsl.loader.broadcastAnnouncement();
  await settle();
  assert.deepEqual([seen.poorUplink, seen.leech, seen.seeds], [true, false, true]);
  assert.equal(seen.getSegmentStatus(cable.segment), "loaded");
  measured(1); // carries the stream about once: offers nothing
  dsl.loader.broadcastAnnouncement();
  await settle();
  assert.deepEqual([seen.poorUplink, seen.leech, seen.seeds], [true, true, false]);
  assert.equal(seen.getSegmentStatus(cable.segment), undefined, "a leech announces no segments");
  // Asked anyway (an announcement from before), it answers "full" and sends nothing.
  seen.loadedSegments.add(7);
  cable.loader.downloadSegment(cable.segment);
  await settle();
  assert.deepEqual(cable.errors, [{ type: "peer-uploads-full", peerId: PEER_IDS.Q1 }]);
  measured(6); // measured again: a good uplink after all
  dsl.loader.broadcastAnnouncement();
  await settle();
  assert.deepEqual([seen.poorUplink, seen.leech, seen.seeds], [false, false, true]);
  for (const end of dsl.ends.values()) end.destroy();
});
