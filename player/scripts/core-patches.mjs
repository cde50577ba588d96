// Build-time patches to p2p-media-loader-core's dist bundle, each checked to apply exactly
// once so that a library upgrade which changes the code fails the build instead of silently
// dropping the patch. Each should go upstream (see the README).
/** Methods added to the core's HybridLoader for the seeder election (see CORE_PATCHES). */
const ELECTION = `\tisElectedHttpSeeder(segment, statuses, request) {
\t\tconst now = performance.now();
\t\tconst seen = this.seedSeenAt ??= new Map();
\t\tif (statuses.isP2PDownloadable) {
\t\t\tseen.set(segment.runtimeId, now);
\t\t\treturn false;
\t\t}
\t\t// A peer that uploads nothing (Data Saver, over its upload cap) cannot pass a segment on:
\t\t// it fetches one only once it is urgent.
\t\tif (this.config.isP2PUploadDisabled) return false;
\t\tconst { simultaneousHttpDownloads, httpErrorRetries, httpDownloadInitialTimeoutMs } = this.config;
\t\tif (!statuses.isHttpDownloadable || this.requests.executingHttpCount >= simultaneousHttpDownloads) return false;
\t\tif (request && (request.status === "loading" || request.status === "succeed" || request.failedAttempts.httpAttemptsCount >= httpErrorRetries)) return false;
\t\tif (httpDownloadInitialTimeoutMs > 0 && now - this.createdAt < httpDownloadInitialTimeoutMs) return false;
\t\tif (!seen.has(segment.runtimeId)) {
\t\t\tif (seen.size > 100) for (const id of seen.keys()) if (!segment.stream.segments.has(id)) seen.delete(id);
\t\t\tseen.set(segment.runtimeId, now);
\t\t}
\t\tconst client = this.p2pLoaders.currentLoader.trackerClient;
\t\tconst swarm = client.swarmSize ?? 0;
\t\tconst sinceSeen = now - seen.get(segment.runtimeId);
\t\t// The steps must fit before the segment is urgent: with less time than that (low latency:
\t\t// half a second) they shrink.
\t\tconst beforeUrgent = ((segment.startTime - this.playback.position) / (this.playback.rate || 1) - this.config.highDemandTimeWindow) * 1e3 + sinceSeen;
\t\tconst roomy = beforeUrgent >= HTTP_SEED_HOPS_BEFORE_URGENT * HTTP_SEED_HOP_MS;
\t\tconst hop = roomy ? HTTP_SEED_HOP_MS : beforeUrgent / HTTP_SEED_HOPS_BEFORE_URGENT;
\t\tconst delay = client.slot !== void 0 && client.slot < swarm ? this.slotPlace(segment, client.slot, swarm) * hop : this.scoreDelay(segment, client, swarm, roomy, hop);
\t\tconst wait = delay - sinceSeen;
\t\tif (wait <= 0) return true;
\t\tif (this.seedTimer === void 0 || this.seedTimerAt > now + wait) {
\t\t\tclearTimeout(this.seedTimer);
\t\t\tthis.seedTimerAt = now + wait;
\t\t\tthis.seedTimer = window.setTimeout(() => {
\t\t\t\tthis.seedTimer = void 0;
\t\t\t\tthis.requestProcessQueueMicrotask();
\t\t\t}, wait);
\t\t}
\t\treturn false;
\t}
\tslotPlace(segment, slot, size) {
\t\tconst places = this.seedPlaces ??= new Map();
\t\tconst key = \`\${segment.externalId}|\${slot}|\${size}\`;
\t\tlet place = places.get(key);
\t\tif (place === void 0) {
\t\t\tif (places.size > 100) places.clear();
\t\t\tplaces.set(key, place = slotPlace(slot, size, segment.externalId));
\t\t}
\t\treturn place;
\t}
\tscoreDelay(segment, client, swarm, roomy, hop) {
\t\tconst own = [seedScore(client.peerId, segment.externalId), client.peerId];
\t\tlet rank = 0;
\t\tlet peers = 0;
\t\tfor (const peer of client.peers()) {
\t\t\tpeers++;
\t\t\tconst score = seedScore(peer.id, segment.externalId);
\t\t\tif (score < own[0] || score === own[0] && peer.id < own[1]) rank++;
\t\t}
\t\t// In a swarm larger than this peer's neighbourhood, many peers are first among their own
\t\t// neighbours: each also waits by its score's likely place in the whole swarm. Without
\t\t// room, places count from 1, the likely lowest, which fetches at once.
\t\tconst place = own[0] / 4294967296 * swarm - (roomy ? 0 : 1);
\t\treturn Math.max(rank * HTTP_SEED_STEP_MS, swarm > peers + 1 ? place * hop : 0);
\t}
`;

/** Top-level helpers the election uses, inserted before the HybridLoader class. */
const ELECTION_HELPERS = `/** Longer than an announcement takes to reach the other peers. */
var HTTP_SEED_STEP_MS = 250;
/**
 * The step by place in the whole swarm, where time allows: longer than the news of a fetch takes
 * to cross the swarm (announced as it starts, relayed by peers as their transfers start).
 */
var HTTP_SEED_HOP_MS = 250;
/** Place steps that must fit before a segment is urgent. */
var HTTP_SEED_HOPS_BEFORE_URGENT = 4;
/**
 * A peer's place among the whole swarm for a segment, from its slot (the tracker numbers a
 * swarm's peers 0 to size - 1): slots sit at their bit-reversed positions on a circle, spread
 * evenly whatever the size, and each segment starts the order at a point of its own. Exactly one
 * peer is first, at once. Ordering by a random score instead made the first one's place random
 * (the lowest of N scores): now and then nobody fetched until the segment was urgent for all.
 */
function slotPlace(slot, size, externalId) {
\tconst start = seedScore("", externalId) >>> 16;
\tconst at = (s) => reverseBits16(s & 65535) - start & 65535;
\tconst own = at(slot);
\tlet place = 0;
\t// Past 65536 peers positions repeat (ties: a few extra fetches); the loop stays bounded.
\tfor (let s = 0; s < Math.min(size, 65536); s++) if (at(s) < own) place++;
\treturn place;
}
function reverseBits16(x) {
\tlet y = 0;
\tfor (let i = 0; i < 16; i++, x >>= 1) y = y << 1 | x & 1;
\treturn y;
}
/** A peer's score for a segment: FNV-1a, then murmur3's finalizer so that sequential ids spread. */
function seedScore(peerId, externalId) {
\tconst text = \`\${peerId}|\${externalId}\`;
\tlet h = 2166136261;
\tfor (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
\th = Math.imul(h ^ h >>> 16, 2246822507);
\th = Math.imul(h ^ h >>> 13, 3266489909);
\treturn (h ^ h >>> 16) >>> 0;
}
`;

/** What a core does with a peer it rejected (see CORE_PATCHES: "a peer that sent bad bytes stays out"). */
const REJECTED_PEERS = `/** A core's rejected peer ids, on its event target: the one object all its parts share. */
function rejectedPeerIdsOf(eventTarget) {
\treturn eventTarget.rejectedPeerIds ??= new Set();
}
/** Rejected peer ids kept at most (the oldest is forgotten first). */
var MAX_REJECTED_PEERS = 1e3;
`;

const CORE_REJECT_PEER = `\t/**
\t * Rejects a peer for this core's life: closes its connection, refuses its offers and answers
\t * from now on, and reports it to the tracker of the swarm it is in.
\t */
\trejectPeer(peerId) {
\t\tconst rejected = rejectedPeerIdsOf(this.eventTarget);
\t\tif (rejected.has(peerId)) return;
\t\tif (rejected.size >= MAX_REJECTED_PEERS) rejected.delete(rejected.values().next().value);
\t\trejected.add(peerId);
\t\tfor (const hybrid of [this.mainStreamLoader, this.secondaryStreamLoader]) for (const { loader } of hybrid?.p2pLoaders.loaders.values() ?? []) loader.trackerClient.rejectPeer(peerId);
\t}
`;

const TRACKER_CLIENT_REJECT_PEER = `\trejectPeer(peerId) {
\t\tconst item = this._peers.get(peerId);
\t\tif (!item) return;
\t\t// The id's bytes as the tracker knows them (the core's ids are their UTF-8 decoding).
\t\tconst connection = item.peer?.connection ?? item.potentialConnections.values().next().value;
\t\tconst offender = hex2bin(connection?.id ?? arr2hex(utf8ToUintArray(peerId)));
\t\tconst report = JSON.stringify({ action: "peercast_reject", info_hash: this.client._infoHashBinary, peer_id: this.client._peerIdBinary, offender });
\t\tfor (const tracker of this.client._trackers) if (tracker.socket?.connected) tracker.socket.send(report);
\t\t// After the engine's own handling of the failure, which may be closing this peer already.
\t\tqueueMicrotask(() => {
\t\t\tif (this._peers.get(peerId) !== item) return;
\t\t\tthis._peers.delete(peerId);
\t\t\titem.peer?.destroy();
\t\t\tfor (const potential of item.potentialConnections) potential.destroy();
\t\t});
\t}
`;

const REFUSE_REJECTED = `\t\tif (data.peer_id && this.client.rejectedPeerIds?.has(hexToUtf8(bin2hex(data.peer_id)))) {
\t\t\t// A peer this core rejected: no connection from its offer, none kept for its answer.
\t\t\tconst offerId = data.answer && data.offer_id ? bin2hex(data.offer_id) : void 0;
\t\t\tconst pending = offerId === void 0 ? void 0 : this.peers[offerId];
\t\t\tif (pending) {
\t\t\t\tclearTimeout(pending.trackerTimeout);
\t\t\t\tdelete this.peers[offerId];
\t\t\t\tpending.destroy();
\t\t\t}
\t\t\treturn;
\t\t}
`;

export const CORE_PATCHES = [
  {
    // The bundled bittorrent-tracker client waits 10 s + up to 5 min before reconnecting to a
    // tracker that went away: after a tracker restart, existing viewers stay invisible to new
    // ones for minutes. Reconnect after 2 s + up to 8 s (still spreading the herd), 1 min max.
    why: "tracker reconnect delay",
    replace: [
      ["var RECONNECT_MINIMUM = 10 * 1e3;", "var RECONNECT_MINIMUM = 2 * 1e3;"],
      ["var RECONNECT_MAXIMUM = 3600 * 1e3;", "var RECONNECT_MAXIMUM = 60 * 1e3;"],
      ["var RECONNECT_VARIANCE = 300 * 1e3;", "var RECONNECT_VARIANCE = 8 * 1e3;"],
    ],
  },
  {
    // Who fetches a new live segment from the origin? Upstream leaves it to chance: every 1 to
    // 1 + peers seconds each peer fetches a segment nobody has with probability 1 / (peers + 1).
    // With a few seconds of slack that is too late (others reach the segment's deadline and
    // all fetch it) or twice (two dice). Here the tracker numbers each swarm's peers (slots, see
    // tracker/src/swarm.ts) and every peer derives the same order for each segment from them:
    // the first fetches the moment it sees the segment, the one at place p only if nobody has
    // or loads it p steps later (the clock starts again whenever someone does). Until a peer
    // knows its slot it ranks itself among its connected peers by a hash of (peer id, segment).
    why: "HTTP seeder election",
    replace: [
      ["\t\tthis.client = new bittorrent_tracker_default({", "\t\tthis.peerId = peerId;\n\t\tthis.client = new bittorrent_tracker_default({"],
      [
        "\t\tthis.client.on(\"error\", this.onTrackerClientError);\n",
        "\t\tthis.client.on(\"error\", this.onTrackerClientError);\n\t\tthis.client.on(\"update\", (data) => {\n\t\t\tthis.swarmSize = (data.complete ?? 0) + (data.incomplete ?? 0);\n\t\t\tthis.slot = Number.isInteger(data.slot) ? data.slot : void 0;\n\t\t});\n",
      ],
      [
        "\t\t\t} else if (statuses.isP2PDownloadable && request?.status !== \"loading\"",
        "\t\t\t} else if (this.isElectedHttpSeeder(segment, statuses, request)) this.loadThroughHttp(segment);\n\t\t\telse if (statuses.isP2PDownloadable && request?.status !== \"loading\"",
      ],
      ["\tloadThroughP2P(segment) {", `${ELECTION}\tloadThroughP2P(segment) {`],
      ["\tloadRandomThroughHttp() {\n", "\tloadRandomThroughHttp() {\n\t\treturn; // the seeder election above replaces random seeding\n"],
      ["var HybridLoader = class {", `${ELECTION_HELPERS}var HybridLoader = class {`],
      ["\t\tclearTimeout(this.randomHttpDownloadTimeout);\n", "\t\tclearTimeout(this.randomHttpDownloadTimeout);\n\t\tclearTimeout(this.seedTimer);\n"],
    ],
  },
  {
    // Upstream announces the segments a peer loads from the origin, not those it loads from a
    // peer: a viewer two hops from the elected seeder hears of a new segment only once a
    // neighbour holds all of it, a transfer later, and meanwhile its own turn in the election
    // may come. Announced as loading (the wire's "http-loading", which nobody requests from),
    // the news crosses the swarm in two announcements instead.
    why: "announce peer downloads in progress",
    replace: [
      [
        "\t\tfor (const request of this.requests.httpRequests()) {\n",
        "\t\tfor (const request of this.requests.items()) {\n\t\t\tif (request.downloadSource !== \"http\" && !(request.downloadSource === \"p2p\" && request.status === \"loading\")) continue;\n",
      ],
      ["\t\tselectedPeer.downloadSegment(request);\n", "\t\tselectedPeer.downloadSegment(request);\n\t\tthis.broadcastAnnouncement();\n"],
      ["\t\t\t\t\tif (type === \"http\" && !isHandledByProcessQueue) this.p2pLoaders", "\t\t\t\t\tif (!isHandledByProcessQueue) this.p2pLoaders"],
    ],
  },
  {
    // A download resumes with the bytes an earlier attempt left (from another peer, or over
    // HTTP), and one whose bytes are all here completes without fetching any (a transfer cut
    // after its last byte). When such bytes fail the hash check, upstream's onSegmentError
    // names the peer of the last attempt, which may have sent none of them: an honest peer
    // blamed for another's bytes. For that failure the event names the peer only when its
    // attempt sent every byte (the player rejects the peer it names).
    why: "blame only the peer that sent the bytes",
    replace: [
      [
        "\t\t\terror,\n\t\t\tdownloadSource: this.currentAttempt.downloadSource,\n\t\t\tpeerId: this.currentAttempt.downloadSource === \"p2p\" ? this.currentAttempt.peerId : void 0,",
        "\t\t\terror,\n\t\t\tdownloadSource: this.currentAttempt.downloadSource,\n\t\t\tpeerId: this.currentAttempt.downloadSource === \"p2p\" && (error.type !== \"p2p-segment-validation-failed\" || this.progress?.startFromByte === 0) ? this.currentAttempt.peerId : void 0,",
      ],
    ],
  },
  {
    // Upstream closes a peer whose segment fails the hash check, but the tracker introduces it
    // again on the next announce: each time another wasted transfer. Core.rejectPeer (the
    // player calls it from onSegmentError, see player/src/peer-rejection.ts) remembers the id
    // for the core's life, closes the connection, makes the tracker client ignore the peer's
    // offers and answers before any connection is built, and reports it to Peercast's tracker
    // (\`peercast_reject\`, which stops introducing the two; see tracker/src/peer-reports.ts).
    why: "a peer that sent bad bytes stays out",
    replace: [
      ["var P2PTrackerClient = class P2PTrackerClient {", `${REJECTED_PEERS}var P2PTrackerClient = class P2PTrackerClient {`],
      ["\t\tthis.client.on(\"peer\", this.onReceivePeerConnection);\n", "\t\tthis.client.rejectedPeerIds = rejectedPeerIdsOf(eventTarget);\n\t\tthis.client.on(\"peer\", this.onReceivePeerConnection);\n"],
      ["\tonTrackerClientWarning = (warning) => {", `${TRACKER_CLIENT_REJECT_PEER}\tonTrackerClientWarning = (warning) => {`],
      ["\t\tlet peer;\n\t\tif (data.offer && data.peer_id) {", `${REFUSE_REJECTED}\t\tlet peer;\n\t\tif (data.offer && data.peer_id) {`],
      ["\tdestroy() {\n\t\tthis.streams.clear();", `${CORE_REJECT_PEER}\tdestroy() {\n\t\tthis.streams.clear();`],
    ],
  },
];

/** Applies every patch to the core bundle's source; throws if one no longer matches exactly once. */
export function patchCore(source) {
  for (const patch of CORE_PATCHES) {
    for (const [from, to] of patch.replace) {
      const count = source.split(from).length - 1;
      if (count !== 1) throw new Error(`p2p-media-loader-core patch "${patch.why}": expected "${from}" once, found ${count} times`);
      source = source.replace(from, to);
    }
  }
  return source;
}
