// Build-time patches to p2p-media-loader-core's dist bundle, each checked to apply exactly
// once so that a library upgrade which changes the code fails the build instead of silently
// dropping the patch. Each should go upstream (docs/player.md).
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
\tconst own = slotPosition(slot, start);
\tlet place = 0;
\t// Past 65536 peers positions repeat (ties: a few extra fetches); the loop stays bounded.
\tfor (let s = 0; s < Math.min(size, 65536); s++) if (slotPosition(s, start) < own) place++;
\treturn place;
}
/** A slot's position on the circle, from a segment's starting point (see slotPlace). */
function slotPosition(slot, start) {
\treturn reverseBits16(slot & 65535) - start & 65535;
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

/** What the cut-through relay adds before the Peer class (see CORE_PATCHES). */
const RELAY_HELPERS = `/**
 * Data messages carry at most this many bytes. A relay passes each on as it arrives, so one
 * message is what a hop adds to a transfer (16 KiB: 13 ms at 10 Mbit/s; upstream's 64 KiB: 52 ms).
 */
var UPLOAD_CHUNK_BYTES = 16 * 1024;
/** The uploads a core is serving, on its event target (the one object all its parts share). */
function uploadsOf(eventTarget) {
\treturn eventTarget.peercastUploads ??= new Set();
}
/** A stored segment's bytes, for an upload. */
function storedSegmentFeed(data) {
\tconst bytes = new Uint8Array(data);
\treturn {
\t\ttotal: () => bytes.byteLength,
\t\tread: (from, max) => from < bytes.byteLength ? bytes.slice(from, from + max) : void 0,
\t\tstate: () => "done",
\t\tsource: () => "stored",
\t\twatch: () => () => void 0
\t};
}
/**
 * The bytes of a download still arriving (over HTTP or from a peer), for a relay. "done" once
 * it completed and passed this peer's own hash check; "failed" once its bytes were dropped (a
 * failed check, a size mismatch); "stopped" between attempts (it may resume from elsewhere).
 */
function downloadFeed(request) {
\tconst generation = request.relayGeneration ?? 0;
\tconst cursor = { index: 0, base: 0 };
\treturn {
\t\ttotal: () => request.status === "succeed" ? request.loadedBytes : request.totalBytes,
\t\tsource: () => request.downloadSource,
\t\tread(from, max) {
\t\t\tif ((request.relayGeneration ?? 0) !== generation) return void 0;
\t\t\tconst chunks = request.bytes;
\t\t\twhile (cursor.index < chunks.length && cursor.base + chunks[cursor.index].byteLength <= from) cursor.base += chunks[cursor.index++].byteLength;
\t\t\tconst chunk = chunks[cursor.index];
\t\t\tif (!chunk) return void 0;
\t\t\tconst start = from - cursor.base;
\t\t\treturn new Uint8Array(chunk.buffer, chunk.byteOffset + start, Math.min(chunk.byteLength - start, max)).slice();
\t\t},
\t\tstate() {
\t\t\tif ((request.relayGeneration ?? 0) !== generation) return "failed";
\t\t\tif (request.status === "succeed") return "done";
\t\t\treturn request.status === "loading" ? "loading" : "stopped";
\t\t},
\t\twatch(watcher) {
\t\t\tconst watchers = request.relayWatchers ??= new Set();
\t\t\twatchers.add(watcher);
\t\t\treturn () => watchers.delete(watcher);
\t\t}
\t};
}
`;

/** Peer methods of the cut-through relay (see CORE_PATCHES). */
const RELAY_PEER_METHODS = `\t/** The segment this peer is being sent by us, if any. */
\tget uploadingSegment() {
\t\treturn this.peerProtocol.uploadingContext?.segmentId;
\t}
\t/**
\t * Sends a segment's bytes from byteFrom on as the feed has them: its size once known, each
\t * message as its bytes arrive, "completed" only once the feed is done (for a relay: once its
\t * own download passed its own hash check), and "absent" if the feed fails instead (the
\t * requester then drops what it got). One upload per connection, as upstream.
\t */
\tasync sendSegment(segment, requestId, feed, byteFrom) {
\t\tconst protocol = this.peerProtocol;
\t\tconst uploads = uploadsOf(this.eventTarget);
\t\tlet wake;
\t\tlet signalled = false;
\t\tconst poke = () => {
\t\t\tif (wake) wake();
\t\t\telse signalled = true;
\t\t};
\t\tconst changed = () => signalled ? (signalled = false, Promise.resolve()) : new Promise((resolve) => wake = () => {
\t\t\twake = void 0;
\t\t\tresolve();
\t\t});
\t\tlet stopped = false;
\t\tlet drained = true;
\t\tconst upload = {
\t\t\trequestId,
\t\t\tsegmentId: segment.externalId,
\t\t\tstopUploading: () => {
\t\t\t\tstopped = true;
\t\t\t\tuploads.delete(upload);
\t\t\t\tpoke();
\t\t\t}
\t\t};
\t\tprotocol.stopUploadingSegmentData();
\t\tprotocol.uploadingContext = upload;
\t\tuploads.add(upload);
\t\tconst onDrain = () => {
\t\t\tdrained = true;
\t\t\tpoke();
\t\t};
\t\tthis.connection.on("drain", onDrain);
\t\tconst unwatch = feed.watch(poke);
\t\tlet resumeTimer;
\t\tlet resumeMissed = false;
\t\ttry {
\t\t\tlet at = byteFrom;
\t\t\tlet total;
\t\t\twhile (!stopped) {
\t\t\t\tconst state = feed.state();
\t\t\t\t// Between attempts a download resumes at once (the engine's queue picks another
\t\t\t\t// source in the same turn) or not at all.
\t\t\t\tif (state === "stopped" && !resumeMissed) {
\t\t\t\t\tresumeTimer ??= setTimeout(() => {
\t\t\t\t\t\tresumeMissed = true;
\t\t\t\t\t\tpoke();
\t\t\t\t\t}, 0);
\t\t\t\t\tawait changed();
\t\t\t\t\tcontinue;
\t\t\t\t}
\t\t\t\tif (state === "loading" && resumeTimer !== void 0) {
\t\t\t\t\tclearTimeout(resumeTimer);
\t\t\t\t\tresumeTimer = void 0;
\t\t\t\t}
\t\t\t\tif (state === "failed" || state === "stopped") {
\t\t\t\t\tthis.sendSegmentAbsentCommand(segment.externalId, requestId);
\t\t\t\t\treturn;
\t\t\t\t}
\t\t\t\tif (total === void 0) {
\t\t\t\t\ttotal = feed.total();
\t\t\t\t\tif (total === void 0) {
\t\t\t\t\t\tawait changed();
\t\t\t\t\t\tcontinue;
\t\t\t\t\t}
\t\t\t\t\tif (byteFrom > total) {
\t\t\t\t\t\tthis.sendSegmentAbsentCommand(segment.externalId, requestId);
\t\t\t\t\t\treturn;
\t\t\t\t\t}
\t\t\t\t\tprotocol.sendCommand({
\t\t\t\t\t\tc: PeerCommandType.SegmentData,
\t\t\t\t\t\ti: segment.externalId,
\t\t\t\t\t\tr: requestId,
\t\t\t\t\t\ts: total - byteFrom
\t\t\t\t\t});
\t\t\t\t}
\t\t\t\tif (!drained) {
\t\t\t\t\tawait changed();
\t\t\t\t\tcontinue;
\t\t\t\t}
\t\t\t\tconst chunk = at < total ? feed.read(at, Math.min(UPLOAD_CHUNK_BYTES, this.peerConfig.webRtcMaxMessageSize, total - at)) : void 0;
\t\t\t\tif (chunk) {
\t\t\t\t\tat += chunk.byteLength;
\t\t\t\t\tdrained = this.connection.write(chunk);
\t\t\t\t\tprotocol.onChunkUploaded(chunk.byteLength, this.connection.idUtf8);
\t\t\t\t\tcontinue;
\t\t\t\t}
\t\t\t\tif (state === "done") {
\t\t\t\t\tif (at === total) this.sendSegmentDataSendingCompletedCommand(segment, requestId);
\t\t\t\t\telse this.sendSegmentAbsentCommand(segment.externalId, requestId);
\t\t\t\t\treturn;
\t\t\t\t}
\t\t\t\tawait changed();
\t\t\t}
\t\t} finally {
\t\t\tclearTimeout(resumeTimer);
\t\t\tunwatch();
\t\t\tthis.connection.off("drain", onDrain);
\t\t\tuploads.delete(upload);
\t\t\tif (protocol.uploadingContext === upload) protocol.uploadingContext = void 0;
\t\t}
\t}
`;

/** What the upload slots add before the Peer class (see CORE_PATCHES). */
const SLOT_HELPERS = `/**
 * Uploads a core serves at once. Upstream serves every requester at once: the one peer that
 * fetched a new segment had all others pulling from it, its uplink split among them and its
 * queue overflowing. Served two at a time, each gets half the uplink, and the others ask a
 * peer that has the segment or is relaying it.
 */
var MAX_UPLOADS = 2;
/** How long a requester told "uploads full" leaves that peer alone (it tries others meanwhile). */
var UPLOADS_FULL_RETRY_MS = 200;
/**
 * Each upload must run this much faster than its segment plays (a relayed segment flows on
 * through the next peer's uplink too): an uplink that carries the stream less than 2.6 times
 * serves one upload at a time, for it would only halve two, and one below 1.3 times none.
 */
var SLOT_RATE_MARGIN = 1.3;
/**
 * A delivery report counts with this many bytes or this long: a short one says little, but a
 * slow uplink's transfers are short when they are cut (32 KiB a quarter of a second at 1 Mbit/s;
 * on dsl most reports were cut below 64 KiB, and the uplink stayed unmeasured).
 */
var UPLINK_MIN_BYTES = 32 * 1024;
var UPLINK_MIN_MS = 500;
/** The peer command by which a requester reports how fast a segment's bytes arrived (new). */
var PEERCAST_DELIVERY_REPORT = 6;
/**
 * The uplink is the best of its last few uploads: one upload is slow when its receiver's path
 * is (a lossy mobile downlink), or when it shared the uplink with another (counting the
 * uploads at once overstated a dsl uplink that served a second one briefly). Old ones are
 * forgotten, so a core that stopped uploading on a poor uplink measures it again every
 * UPLINK_SAMPLE_MS.
 */
var UPLINK_SAMPLES = 4;
var UPLINK_SAMPLE_MS = 120e3;
/**
 * A core's uplink, as the streams its uploads carried: each upload paced by the uplink (a stored
 * segment, or one arriving over HTTP: downlinks outrun uplinks) measures its rate (the bytes its
 * requester received over the time they took, see sendDeliveryReport) over its segment's own
 * bitrate. On its event target.
 */
function uplinkOf(eventTarget) {
\treturn eventTarget.peercastUplink ??= { samples: [] };
}
function measureUplink(eventTarget, segment, total, bytes, ms) {
\tconst duration = segment.endTime - segment.startTime;
\tif (!(bytes >= UPLINK_MIN_BYTES || ms >= UPLINK_MIN_MS) || !(bytes > 0) || !(duration > 0) || !(ms > 0) || !(total > 0)) return;
\tconst { samples } = uplinkOf(eventTarget);
\tsamples.push({ streams: bytes / ms * 1e3 / (total / duration), at: performance.now() });
\tif (samples.length > UPLINK_SAMPLES) samples.shift();
}
/** The streams the uplink carries; undefined until a first upload, and again once all are old. */
function uplinkStreams(eventTarget) {
\tconst now = performance.now();
\tlet best;
\tfor (const { streams, at } of uplinkOf(eventTarget).samples) if (now - at < UPLINK_SAMPLE_MS && !(streams <= best)) best = streams;
\treturn best;
}
/**
 * Uploads this core serves at once: as many as its uplink carries in time. None where one upload
 * would not run 1.3 times the stream's pace (dsl, lossy mobile): such a core is a leech, for a
 * segment it passed on would come too late, and a full uplink delays its own HTTP requests and
 * acknowledgements (the load test's dsl viewers stalled). One until a first upload measures it:
 * two at once on dsl each ran at half the uplink, both came too late, and the new viewer's own
 * segments waited behind them (about half of all stalls on dsl came in the first 20 seconds).
 */
function uploadSlots(eventTarget) {
\tconst streams = uplinkStreams(eventTarget);
\treturn streams === void 0 ? 1 : Math.min(MAX_UPLOADS, Math.floor(streams / SLOT_RATE_MARGIN));
}
`;

/** Peer methods of the upload slots (see CORE_PATCHES). */
const SLOT_PEER_METHODS = `\t/** "Absent" with a retry delay: busy, not without the segment (older peers read "absent"). */
\tsendUploadsFullCommand(segmentExternalId, requestId) {
\t\tthis.peerProtocol.sendCommand({
\t\t\tc: PeerCommandType.SegmentAbsent,
\t\t\ti: segmentExternalId,
\t\t\tr: requestId,
\t\t\tw: UPLOADS_FULL_RETRY_MS
\t\t});
\t}
\t/**
\t * This peer is serving all the uploads it can: the download fails without blame, this peer
\t * still counts as having (or relaying) the segment, and the engine asks another at once or
\t * this one after the delay it gave.
\t */
\tonUploadsFull(retryMs) {
\t\tconst { request, controls } = this.downloadingContext;
\t\tthis.downloadingContext = void 0;
\t\tthis.bandwidthCalculator.stopLoading();
\t\tconst wait = Math.min(Math.max(retryMs, 0), 2e3);
\t\tthis.busyUntil = performance.now() + wait;
\t\tclearTimeout(this.busyTimer);
\t\tthis.busyTimer = setTimeout(() => request.requestProcessQueueCallback(), wait);
\t\tcontrols.abortOnError(new RequestError("peer-uploads-full"));
\t}
\t/** An upload this peer sends, by request id, until its requester reports the delivery. */
\trememberUpload(requestId, segment, paced) {
\t\tconst records = this.uploadRecords ??= new Map();
\t\tif (records.size >= 8) records.delete(records.keys().next().value);
\t\tconst record = { segment, paced, total: void 0 };
\t\trecords.set(requestId, record);
\t\treturn record;
\t}
\t/** The requester's report: the uplink's measure, where the uplink paced the upload. */
\tonDeliveryReport(command) {
\t\tconst record = this.uploadRecords?.get(command.r);
\t\tif (!record || record.segment.externalId !== command.i) return;
\t\tthis.uploadRecords.delete(command.r);
\t\tif (record.paced && record.total !== void 0) measureUplink(this.eventTarget, record.segment, record.total, command.n, command.t);
\t}
\t/** A chunk of the download arrived: its time and size, for the delivery report. */
\tnoteDelivery(bytes) {
\t\tconst context = this.downloadingContext;
\t\tconst now = performance.now();
\t\tif (context.firstChunkAt === void 0) {
\t\t\tcontext.firstChunkAt = now;
\t\t\tcontext.deliveredBytes = 0;
\t\t} else context.deliveredBytes += bytes;
\t\tcontext.lastChunkAt = now;
\t}
\t/**
\t * Tells the sender, as a download ends whole or cut, how many bytes came after the first
\t * message and in what time: at its uplink's pace, or its source's. Only the receiver knows;
\t * the sender's own count ends in its send buffers (libdatachannel's hold 1 MiB: a whole
\t * segment looked sent at once).
\t */
\tsendDeliveryReport(context) {
\t\tif (context?.firstChunkAt === void 0 || !(context.lastChunkAt > context.firstChunkAt)) return;
\t\tthis.peerProtocol.sendCommand({
\t\t\tc: PEERCAST_DELIVERY_REPORT,
\t\t\ti: context.request.segment.externalId,
\t\t\tr: context.requestId,
\t\t\tn: context.deliveredBytes,
\t\t\tt: Math.max(1, Math.round(context.lastChunkAt - context.firstChunkAt))
\t\t});
\t}
`;

/** What the upload-aware election adds to the hybrid loader (see CORE_PATCHES). */
const STANDING_PLACE = `\t/**
\t * A place in the slot order with seeding counted: a peer whose uplink is poor goes behind
\t * every peer it knows to seed better, and the peers behind one that will not fetch at its turn
\t * move up (behind a poor uplink, for a good one; behind a leech, for all). Where all are poor,
\t * the order among them stands.
\t */
\tstandingPlace(segment, client, swarm) {
\t\tconst place = this.slotPlace(segment, client.slot, swarm);
\t\tconst peers = [...client.peers()];
\t\tconst poor = poorUplink(this.eventTarget);
\t\tif (poor && peers.some((peer) => !peer.poorUplink)) return place + swarm;
\t\tconst start = seedScore("", segment.externalId) >>> 16;
\t\tconst own = slotPosition(client.slot, start);
\t\tlet skipped = 0;
\t\tfor (const peer of peers) if ((poor ? peer.leech : peer.poorUplink) && peer.seedSlot < swarm && slotPosition(peer.seedSlot, start) < own) skipped++;
\t\treturn Math.max(0, place - skipped);
\t}
\t/**
\t * A leech fetches a new segment for nobody: only once it is urgent (like a peer that uploads
\t * nothing), unless it knows no peer measured to pass segments on; then at once, as without
\t * P2P. (A peer not yet measured does not count: on dsl the one left unmeasured had every
\t * leech waiting for it, and its one upload slot could not serve them in time.)
\t */
\tleechFetchesNow() {
\t\tfor (const peer of this.p2pLoaders.currentLoader.trackerClient.peers()) if (peer.seeds) return false;
\t\treturn true;
\t}
`;

/** What the upload-aware election adds before the P2P loader (see CORE_PATCHES). */
const STANDING_HELPERS = `/**
 * An uplink measured too slow to seed for the swarm: it carries the stream less than twice over
 * (one upload slot, or none), so peers pulling a new segment from it would wait (2 s a segment
 * on dsl). Not yet measured, it seeds as a good one would, one upload at a time.
 */
function poorUplink(eventTarget) {
\treturn uplinkStreams(eventTarget) !== void 0 && uploadSlots(eventTarget) < MAX_UPLOADS;
}
/** An uplink that passes nothing on (see uploadSlots): it announces no segments, only that it is a leech. */
function leechUplink(eventTarget) {
\treturn uploadSlots(eventTarget) === 0;
}
`;

/** What the throughput deadline adds to the hybrid loader (see CORE_PATCHES). */
const DEADLINE = `\t/**
\t * A transfer from a peer that, at the rate it has had, ends with room to spare before its
\t * segment plays, and is still receiving bytes: kept once the segment is urgent, instead of
\t * being cut for an HTTP fetch of the rest.
\t */
\tp2pArrivesInTime(request, segment) {
\t\tconst { totalBytes, loadedBytes, progress } = request;
\t\tif (totalBytes === void 0 || !progress?.lastLoadedChunkTimestamp || progress.loadedBytes <= 0) return false;
\t\tif (performance.now() - progress.lastLoadedChunkTimestamp > P2P_FLOWING_MS) return false;
\t\tconst bytesPerMs = progress.loadedBytes / Math.max(1, progress.lastLoadedChunkTimestamp - progress.startTimestamp);
\t\tconst remainingMs = (totalBytes - loadedBytes) / bytesPerMs;
\t\tconst untilPlayMs = (segment.startTime - this.playback.position) / (this.playback.rate || 1) * 1e3;
\t\treturn remainingMs * P2P_DEADLINE_FACTOR + P2P_DEADLINE_MARGIN_MS < untilPlayMs;
\t}
`;
/**
 * The deadline's safety: the rate may drop (factor), the last message and the hash check take a
 * moment (margin), and a transfer that went quiet this long is not relied on.
 */
const DEADLINE_HELPERS = `var P2P_DEADLINE_FACTOR = 1.5;
var P2P_DEADLINE_MARGIN_MS = 150;
var P2P_FLOWING_MS = 250;
`;

/** What leaving P2P that cannot keep up adds to the hybrid loader (see CORE_PATCHES). */
const P2P_BACKOFF = `\t/**
\t * Notes how a download from peers ended: whole, or cut for HTTP at its deadline. When most
\t * recent ones were cut, peers cannot bring this viewer segments in time (its downlink is
\t * lossy, or its peers' uplinks are slow): it fetches over HTTP for a while, as without P2P.
\t */
\tnoteP2POutcome(whole) {
\t\tconst outcomes = this.p2pOutcomes ??= [];
\t\toutcomes.push(whole);
\t\tif (outcomes.length > P2P_OUTCOMES) outcomes.shift();
\t\tif (whole || outcomes.filter((ok) => !ok).length < P2P_CUTS_TO_LEAVE) return;
\t\tthis.p2pOffUntil = performance.now() + P2P_LEAVE_MS;
\t\toutcomes.length = 0;
\t}
\tp2pLeft() {
\t\treturn this.p2pOffUntil > performance.now();
\t}
`;
/**
 * How many of the latest downloads from peers must have been cut to leave P2P, and for how long.
 * A viewer on a good link sees a cut now and then (a peer that left, a slow relay): 4 of 6.
 */
const P2P_BACKOFF_HELPERS = `var P2P_OUTCOMES = 6;
var P2P_CUTS_TO_LEAVE = 4;
var P2P_LEAVE_MS = 60e3;
`;

/** What the connection watch adds before the tracker client (see CORE_PATCHES). */
const UNREACHABLE_HELPERS = `/**
 * How long a peer connection may take from signalling to open. ICE over a STUN-mapped path
 * takes a few round trips (under a second at 150 ms); the answerer's gathering waits for the
 * STUN server (5 s at most). A pair that takes longer will not connect (two symmetric NATs,
 * blocked UDP), and Chromium's own ICE failure comes only after about 30 s.
 */
var PEER_CONNECT_TIMEOUT_MS = 15e3;
`;

const TRACKER_CLIENT_WATCH_CONNECTING = `\t/**
\t * A connection that does not open in time, or whose ICE fails, is closed and the peer reported
\t * to the tracker as unreachable ("peercast_unreachable"), unless another connection to the
\t * same peer is still trying or made it. The peer's item goes with its last attempt
\t * (upstream kept it forever).
\t */
\twatchConnecting(itemId, item, connection) {
\t\tlet open = false;
\t\tconst failed = () => {
\t\t\tclearTimeout(timer);
\t\t\tif (open || item.peer || this._peers.get(itemId) !== item || !item.potentialConnections.delete(connection)) return;
\t\t\tconnection.destroy();
\t\t\tif (item.potentialConnections.size > 0) return;
\t\t\tthis._peers.delete(itemId);
\t\t\tthis.reportUnreachable(connection);
\t\t};
\t\tconst timer = setTimeout(failed, PEER_CONNECT_TIMEOUT_MS);
\t\tconnection.once("connect", () => {
\t\t\topen = true;
\t\t\tclearTimeout(timer);
\t\t});
\t\tconnection.once("error", (error) => {
\t\t\tif (error?.code === "ERR_ICE_CONNECTION_FAILURE" || error?.code === "ERR_CONNECTION_FAILURE") failed();
\t\t});
\t\tconnection.once("close", () => clearTimeout(timer));
\t}
\treportUnreachable(connection) {
\t\tconst report = JSON.stringify({ action: "peercast_unreachable", info_hash: this.client._infoHashBinary, peer_id: this.client._peerIdBinary, other: hex2bin(connection.id) });
\t\tfor (const tracker of this.client._trackers) if (tracker.socket?.connected) tracker.socket.send(report);
\t}
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
        '\t\tthis.client.on("error", this.onTrackerClientError);\n',
        '\t\tthis.client.on("error", this.onTrackerClientError);\n\t\tthis.client.on("update", (data) => {\n\t\t\tthis.swarmSize = (data.complete ?? 0) + (data.incomplete ?? 0);\n\t\t\tthis.slot = Number.isInteger(data.slot) ? data.slot : void 0;\n\t\t});\n',
      ],
      [
        '\t\t\t} else if (statuses.isP2PDownloadable && request?.status !== "loading"',
        '\t\t\t} else if (this.isElectedHttpSeeder(segment, statuses, request)) this.loadThroughHttp(segment);\n\t\t\telse if (statuses.isP2PDownloadable && request?.status !== "loading"',
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
        '\t\tfor (const request of this.requests.items()) {\n\t\t\tif (request.downloadSource !== "http" && !(request.downloadSource === "p2p" && request.status === "loading")) continue;\n',
      ],
      ["\t\tselectedPeer.downloadSegment(request);\n", "\t\tselectedPeer.downloadSegment(request);\n\t\tthis.broadcastAnnouncement();\n"],
      ['\t\t\t\t\tif (type === "http" && !isHandledByProcessQueue) this.p2pLoaders', "\t\t\t\t\tif (!isHandledByProcessQueue) this.p2pLoaders"],
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
        '\t\t\terror,\n\t\t\tdownloadSource: this.currentAttempt.downloadSource,\n\t\t\tpeerId: this.currentAttempt.downloadSource === "p2p" ? this.currentAttempt.peerId : void 0,',
        '\t\t\terror,\n\t\t\tdownloadSource: this.currentAttempt.downloadSource,\n\t\t\tpeerId: this.currentAttempt.downloadSource === "p2p" && (error.type !== "p2p-segment-validation-failed" || this.progress?.startFromByte === 0) ? this.currentAttempt.peerId : void 0,',
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
      [
        '\t\tthis.client.on("peer", this.onReceivePeerConnection);\n',
        '\t\tthis.client.rejectedPeerIds = rejectedPeerIdsOf(eventTarget);\n\t\tthis.client.on("peer", this.onReceivePeerConnection);\n',
      ],
      ["\tonTrackerClientWarning = (warning) => {", `${TRACKER_CLIENT_REJECT_PEER}\tonTrackerClientWarning = (warning) => {`],
      ["\t\tlet peer;\n\t\tif (data.offer && data.peer_id) {", `${REFUSE_REJECTED}\t\tlet peer;\n\t\tif (data.offer && data.peer_id) {`],
      ["\tdestroy() {\n\t\tthis.streams.clear();", `${CORE_REJECT_PEER}\tdestroy() {\n\t\tthis.streams.clear();`],
    ],
  },
  {
    // Upstream forwards whole segments only: a peer asked for a segment still arriving answers
    // "absent", so each hop costs a whole transfer (~1 s for 250 KB at 2 Mbit/s) and everyone
    // waits for the one peer that fetched it. Here a peer that is receiving a segment (over
    // HTTP or from a peer) sends its bytes onward as they arrive: the size once known, each
    // message as it comes, "completed" only once its own download completed and passed its own
    // hash check; if that download fails instead, "absent" (after bytes, which upstream never
    // sends), and the requester drops what it got and blames nobody (the relay blames its own
    // source). Requesters ask a peer announcing the segment as loading when nobody has it
    // whole, never the peer they are sending it to. The requester still checks the whole
    // segment before the player gets it. Data messages are 16 KiB (a hop's delay).
    why: "cut-through relay",
    replace: [
      ["var Peer = class Peer {", `${RELAY_HELPERS}var Peer = class Peer {`],
      // The download's watchers (relays) hear of every byte, status change and reset.
      [
        "\tsetStatus(status) {\n\t\tthis._status = status;\n\t\tthis._isHandledByProcessQueue = false;\n",
        "\tsetStatus(status) {\n\t\tthis._status = status;\n\t\tthis._isHandledByProcessQueue = false;\n\t\tthis.relayWatchers?.forEach((watcher) => watcher());\n",
      ],
      [
        "\tclearLoadedBytes() {\n\t\tthis._loadedBytes = 0;\n\t\tthis.bytes = [];\n\t\tthis._totalBytes = void 0;\n\t\tthis.finalData = void 0;\n",
        "\tclearLoadedBytes() {\n\t\tthis._loadedBytes = 0;\n\t\tthis.bytes = [];\n\t\tthis._totalBytes = void 0;\n\t\tthis.finalData = void 0;\n\t\tthis.relayGeneration = (this.relayGeneration ?? 0) + 1;\n\t\tthis.relayWatchers?.forEach((watcher) => watcher());\n",
      ],
      ["\t\tthis._loadedBytes += byteLength;\n\t};", "\t\tthis._loadedBytes += byteLength;\n\t\tthis.relayWatchers?.forEach((watcher) => watcher());\n\t};"],
      ["\tcancelSegmentDownloading(type) {", `${RELAY_PEER_METHODS}\tcancelSegmentDownloading(type) {`],
      [
        '\t\t\t\t\tthis.cancelSegmentDownloading("peer-segment-absent");\n\t\t\t\t\tthis.loadedSegments.delete(command.i);\n',
        '\t\t\t\t\t// After bytes: a relay whose own download failed. What it sent goes.\n\t\t\t\t\tif (this.downloadingContext.isSegmentDataCommandReceived) this.downloadingContext.request.clearLoadedBytes();\n\t\t\t\t\tthis.cancelSegmentDownloading("peer-segment-absent");\n\t\t\t\t\tthis.loadedSegments.delete(command.i);\n\t\t\t\t\tthis.httpLoadingSegments.delete(command.i);\n',
      ],
      // A closed connection ends its upload (upstream's waited for a drain that never came).
      [
        '\tdestroy = () => {\n\t\tthis.cancelSegmentDownloading("peer-closed");\n',
        '\tdestroy = () => {\n\t\tthis.cancelSegmentDownloading("peer-closed");\n\t\tthis.peerProtocol.stopUploadingSegmentData();\n',
      ],
      [
        '\t\tfor (const peer of this.trackerClient.peers()) if (!peer.downloadingSegment && peer.getSegmentStatus(segment) === "loaded") peersWithSegment.push(peer);\n\t\tif (peersWithSegment.length === 0) return;\n',
        '\t\tconst relays = [];\n\t\tfor (const peer of this.trackerClient.peers()) {\n\t\t\tif (peer.downloadingSegment || peer.uploadingSegment === segment.externalId) continue;\n\t\t\tconst status = peer.getSegmentStatus(segment);\n\t\t\tif (status === "loaded") peersWithSegment.push(peer);\n\t\t\telse if (status === "http-loading") relays.push(peer);\n\t\t}\n\t\t// Nobody has it whole: from a peer receiving it, which passes it on as it arrives.\n\t\tif (peersWithSegment.length === 0) peersWithSegment.push(...relays);\n\t\tif (peersWithSegment.length === 0) return;\n',
      ],
      [
        "\t\tif (!segmentData) {\n\t\t\tpeer.sendSegmentAbsentCommand(segmentExternalId, requestId);\n\t\t\treturn;\n\t\t}\n\t\tawait peer.uploadSegmentData(segment, requestId, byteFrom !== void 0 ? segmentData.slice(byteFrom) : segmentData);\n",
        '\t\t// A segment this peer is receiving goes on as it arrives, unless it comes from the requester.\n\t\tconst download = segmentData ? void 0 : this.requests.get(segment);\n\t\tconst relayable = download !== void 0 && (download.status === "loading" || download.status === "succeed") && !(download.downloadSource === "p2p" && download.currentAttempt?.peerId === peer.id);\n\t\tif (!segmentData && !relayable) {\n\t\t\tpeer.sendSegmentAbsentCommand(segmentExternalId, requestId);\n\t\t\treturn;\n\t\t}\n\t\tawait peer.sendSegment(segment, requestId, segmentData ? storedSegmentFeed(segmentData) : downloadFeed(download), byteFrom ?? 0);\n',
      ],
    ],
  },
  {
    // Upstream serves every requester at once (one upload per connection, any number of
    // connections): the peer that fetched a new segment had all others pulling from it at once,
    // its uplink split nine ways and its queue overflowing, every transfer slow. Here a core
    // serves at most MAX_UPLOADS at once (stored or relayed); a request beyond them is answered
    // "absent" with a retry delay (a new field, `w`; peers without this patch read it as plain
    // absent). The requester keeps the peer as having the segment, asks another that has it or
    // relays it, and this one again after the delay. With the relay above, the swarm forms a
    // tree: each served peer passes the segment on to two more as it arrives. A core whose
    // uploads measured an uplink below 2 x 1.3 times the stream's bitrate serves one at a time,
    // below 1.3 times none, and one until its first upload is measured (see uploadSlots).
    // Requesters measure, and report each delivery to the sender (a new command; peers without
    // this patch ignore it).
    why: "upload slots",
    replace: [
      ["var Peer = class Peer {", `${SLOT_HELPERS}var Peer = class Peer {`],
      [
        '\tcreator.addInteger("r", command.r);\n\tcreator.complete();\n\treturn creator.getResultBuffers();\n}\nfunction serializePeerSendSegmentCommand(',
        '\tcreator.addInteger("r", command.r);\n\tif (command.w !== void 0) creator.addInteger("w", command.w);\n\tif (command.n !== void 0) {\n\t\tcreator.addInteger("n", command.n);\n\t\tcreator.addInteger("t", command.t);\n\t}\n\tcreator.complete();\n\treturn creator.getResultBuffers();\n}\nfunction serializePeerSendSegmentCommand(',
      ],
      ["\t\tcase PeerCommandType$1.CancelSegmentRequest:\n", "\t\tcase PEERCAST_DELIVERY_REPORT:\n\t\tcase PeerCommandType$1.CancelSegmentRequest:\n"],
      [
        "\t\t\tcase PeerCommandType.CancelSegmentRequest:\n",
        "\t\t\tcase PEERCAST_DELIVERY_REPORT:\n\t\t\t\tthis.onDeliveryReport(command);\n\t\t\t\tbreak;\n\t\t\tcase PeerCommandType.CancelSegmentRequest:\n",
      ],
      // The requester times what arrives and reports it as the download ends, whole or cut.
      [
        "\t\tthis.bandwidthCalculator.addBytes(chunk.byteLength);\n\t\tthis.cachedDownloadBandwidth.timestamp = 0;\n\t\tcontrols.addLoadedChunk(chunk);",
        "\t\tthis.noteDelivery(chunk.byteLength);\n\t\tthis.bandwidthCalculator.addBytes(chunk.byteLength);\n\t\tthis.cachedDownloadBandwidth.timestamp = 0;\n\t\tcontrols.addLoadedChunk(chunk);",
      ],
      [
        "\t\t\t\tthis.downloadingErrors = [];\n\t\t\t\tcontrols.completeOnSuccess();",
        "\t\t\t\tthis.downloadingErrors = [];\n\t\t\t\tthis.sendDeliveryReport(downloadingContext);\n\t\t\t\tcontrols.completeOnSuccess();",
      ],
      [
        "\t\t\t\t\tthis.sendCancelSegmentRequestCommand(request.segment, requestId);\n\t\t\t\t\tthis.downloadingErrors.push(error);",
        "\t\t\t\t\tthis.sendCancelSegmentRequestCommand(request.segment, requestId);\n\t\t\t\t\tthis.sendDeliveryReport(this.downloadingContext);\n\t\t\t\t\tthis.downloadingErrors.push(error);",
      ],
      ["\tcancelSegmentDownloading(type) {", `${SLOT_PEER_METHODS}\tcancelSegmentDownloading(type) {`],
      [
        "\t\t\t\t\t// After bytes: a relay whose own download failed.",
        "\t\t\t\t\tif (command.w !== void 0 && !this.downloadingContext.isSegmentDataCommandReceived) {\n\t\t\t\t\t\tthis.onUploadsFull(command.w);\n\t\t\t\t\t\tbreak;\n\t\t\t\t\t}\n\t\t\t\t\t// After bytes: a relay whose own download failed.",
      ],
      [
        "\t\tthis.peerProtocol.stopUploadingSegmentData();\n\t\tthis.connection.destroy();",
        "\t\tthis.peerProtocol.stopUploadingSegmentData();\n\t\tclearTimeout(this.busyTimer);\n\t\tthis.connection.destroy();",
      ],
      // An upload paced by the uplink measures it once its requester reports the delivery (whole
      // or cut): a stored segment's, or a relay of a download over HTTP (the elected seeder's, the
      // one a poor uplink must not keep); a relay from a peer goes at its source's pace.
      [
        "\t\tuploads.add(upload);\n",
        '\t\tuploads.add(upload);\n\t\tconst record = this.rememberUpload(requestId, segment, feed.state() === "done" || feed.source() === "http");\n',
      ],
      ["\t\t\t\t\ttotal = feed.total();\n", "\t\t\t\t\ttotal = record.total = feed.total();\n"],
      [
        "\t\t\tif (peer.downloadingSegment || peer.uploadingSegment === segment.externalId) continue;",
        "\t\t\tif (peer.downloadingSegment || peer.uploadingSegment === segment.externalId || peer.busyUntil > performance.now()) continue;",
      ],
      [
        "\t\tawait peer.sendSegment(segment, requestId,",
        "\t\tif (uploadsOf(this.eventTarget).size >= uploadSlots(this.eventTarget)) {\n\t\t\tpeer.sendUploadsFullCommand(segmentExternalId, requestId);\n\t\t\treturn;\n\t\t}\n\t\tawait peer.sendSegment(segment, requestId,",
      ],
    ],
  },
  {
    // The election above takes peers in slot order whatever their uplink: on mix-nat a dsl
    // viewer (1 Mbit/s up, about the stream's rate) was first for a fifth of the segments, and
    // everyone else pulled the segment through its one upload slot, too slow for the deadline.
    // Here each announcement also carries the peer's slot (`s`) and whether its measured uplink
    // is poor (`u`, see poorUplink; peers without this patch ignore both): a poor peer goes
    // behind every peer it knows to seed better, the others do not wait for its turn, and
    // requesters take a segment from it only when no better peer has it or is relaying it.
    // On dsl even one upload at a time was too slow and filled the uplink (viewers stalled,
    // latency +0.8-2.6 s): an uplink below 1.3 streams is a leech (`u` = 2), which announces no
    // segments, is never elected, and fetches over HTTP at once where no peer can seed.
    why: "upload-aware election",
    replace: [
      ["var P2PLoader = class {", `${STANDING_HELPERS}var P2PLoader = class {`],
      [
        '\tif (loadingByHttp?.length) creator.addSimilarIntArr("p", loadingByHttp);\n',
        '\tif (loadingByHttp?.length) creator.addSimilarIntArr("p", loadingByHttp);\n\tif (command.s !== void 0) creator.addInteger("s", command.s);\n\tif (command.u !== void 0) creator.addInteger("u", command.u);\n',
      ],
      [
        "\t\t\t\tthis.httpLoadingSegments = new Set(command.p);\n",
        "\t\t\t\tthis.httpLoadingSegments = new Set(command.p);\n\t\t\t\tthis.seedSlot = command.s;\n\t\t\t\tthis.poorUplink = command.u >= 1;\n\t\t\t\tthis.leech = command.u === 2;\n\t\t\t\tthis.seeds = command.u === 0 || command.u === 1;\n",
      ],
      [
        "\tsendSegmentsAnnouncementCommand(loadedSegmentsIds, httpLoadingSegmentsIds) {\n\t\tconst command = {\n",
        "\tsendSegmentsAnnouncementCommand(loadedSegmentsIds, httpLoadingSegmentsIds, standing) {\n\t\tconst command = {\n\t\t\t...standing,\n",
      ],
      [
        "\t\tpeer.sendSegmentsAnnouncementCommand(loaded, httpLoading);\n\t};",
        "\t\tpeer.sendSegmentsAnnouncementCommand(loaded, httpLoading, this.seedStanding());\n\t};\n\t/** This peer's slot and its measured uplink (0 good, 1 poor, 2 passes nothing on; none until measured), for the others' election. */\n\tseedStanding() {\n\t\treturn { s: this.trackerClient.slot, u: uplinkStreams(this.eventTarget) === void 0 ? void 0 : leechUplink(this.eventTarget) ? 2 : poorUplink(this.eventTarget) ? 1 : 0 };\n\t}",
      ],
      [
        "for (const peer of this.trackerClient.peers()) peer.sendSegmentsAnnouncementCommand(loaded, httpLoading);",
        "const standing = this.seedStanding();\n\t\t\tfor (const peer of this.trackerClient.peers()) peer.sendSegmentsAnnouncementCommand(loaded, httpLoading, standing);",
      ],
      ["? this.slotPlace(segment, client.slot, swarm) * hop :", "? this.standingPlace(segment, client, swarm) * hop :"],
      [
        "\t\tif (httpDownloadInitialTimeoutMs > 0 && now - this.createdAt < httpDownloadInitialTimeoutMs) return false;\n",
        "\t\tif (httpDownloadInitialTimeoutMs > 0 && now - this.createdAt < httpDownloadInitialTimeoutMs) return false;\n\t\tif (leechUplink(this.eventTarget)) return this.leechFetchesNow();\n",
      ],
      // A leech offers nothing: a request would only be answered "full".
      ["\tgetSegmentsAnnouncement() {\n", "\tgetSegmentsAnnouncement() {\n\t\tif (leechUplink(this.eventTarget)) return { loaded: [], httpLoading: [] };\n"],
      ["\tslotPlace(segment, slot, size) {", `${STANDING_PLACE}\tslotPlace(segment, slot, size) {`],
      // Poor uplinks last: a good relay streams a segment faster than a poor peer holding it whole.
      [
        "\t\tif (peersWithSegment.length === 0) peersWithSegment.push(...relays);\n\t\tif (peersWithSegment.length === 0) return;\n",
        "\t\tconst [whole, passing] = [peersWithSegment, relays].map((peers) => [peers.filter((peer) => !peer.poorUplink), peers.filter((peer) => peer.poorUplink)]);\n\t\tconst pick = [whole[0], passing[0], whole[1], passing[1]].find((peers) => peers.length > 0);\n\t\tif (!pick) return;\n\t\tpeersWithSegment.splice(0, peersWithSegment.length, ...pick);\n",
      ],
    ],
  },
  {
    // Upstream cuts a transfer from a peer as soon as its segment becomes urgent (the last
    // highDemandTimeWindow before it plays: 0.5 s in low) and fetches the rest over HTTP, however
    // close to done it is: on links of a few Mbit/s, most relayed transfers were still running
    // then, and the origin sent their ends (in low on emulated cable links, 0.75-1.95 such
    // fetches per segment). Here a transfer that is still receiving bytes and, at the rate it
    // has had, ends 1.5x sooner plus 150 ms before the segment plays is kept; the queue looks
    // again at every playback update.
    why: "P2P deadline from measured throughput",
    replace: [
      ["var HybridLoader = class {", `${DEADLINE_HELPERS}var HybridLoader = class {`],
      ["\tloadThroughP2P(segment) {", `${DEADLINE}\tloadThroughP2P(segment) {`],
      [
        'if (canLoadThroughHttp && request.downloadSource === "p2p" && (',
        'if (canLoadThroughHttp && request.downloadSource === "p2p" && !this.p2pArrivesInTime(request, segment) && (',
      ],
    ],
  },
  {
    // On lossy mobile links (1 % loss, 160 ms between viewers) transfers between peers ran at
    // about half the stream's rate whatever the sender's uplink: most were cut at their deadline
    // and finished over HTTP in the last moments before the segment played, and viewers
    // stalled. Here a viewer whose recent downloads from peers were mostly cut (see
    // noteP2POutcome) fetches everything over HTTP as it appears, as without P2P, for a minute,
    // then tries peers again; it still uploads what its uplink allows.
    why: "leave P2P that cannot keep up",
    replace: [
      ["var HybridLoader = class {", `${P2P_BACKOFF_HELPERS}var HybridLoader = class {`],
      ["\tloadThroughP2P(segment) {", `${P2P_BACKOFF}\tloadThroughP2P(segment) {`],
      [
        "\t\tif (statuses.isP2PDownloadable) {\n\t\t\tseen.set(segment.runtimeId, now);",
        "\t\tconst p2pLeft = this.p2pLeft();\n\t\tif (statuses.isP2PDownloadable && !p2pLeft) {\n\t\t\tseen.set(segment.runtimeId, now);",
      ],
      ["\t\tif (this.config.isP2PUploadDisabled) return false;\n", "\t\tif (this.config.isP2PUploadDisabled && !p2pLeft) return false;\n"],
      [
        "\t\tif (leechUplink(this.eventTarget)) return this.leechFetchesNow();\n",
        "\t\tif (p2pLeft) return true;\n\t\tif (leechUplink(this.eventTarget)) return this.leechFetchesNow();\n",
      ],
      [
        "\t\t\t\t\t\trequest.abortFromProcessQueue();\n\t\t\t\t\t\tthis.loadThroughHttp(segment);\n",
        "\t\t\t\t\t\trequest.abortFromProcessQueue();\n\t\t\t\t\t\tthis.noteP2POutcome(false);\n\t\t\t\t\t\tthis.loadThroughHttp(segment);\n",
      ],
      [
        '\t\t\t\t\tif (type === "http") this.p2pLoaders.currentLoader.broadcastAnnouncement();\n',
        '\t\t\t\t\tif (type === "http") this.p2pLoaders.currentLoader.broadcastAnnouncement();\n\t\t\t\t\telse this.noteP2POutcome(true);\n',
      ],
    ],
  },
  {
    // Upstream keeps trying whatever the tracker introduces: two viewers behind symmetric NATs
    // (a quarter of mix-nat) are introduced again on every announce, each attempt holding one of
    // the few offers an announce carries. Here a connection that does not open within
    // PEER_CONNECT_TIMEOUT_MS (or whose ICE fails first) is closed and reported to Peercast's
    // tracker (`peercast_unreachable`), which does not introduce the pair again for a while (see
    // tracker/src/peer-reports.ts). Segments meanwhile come over HTTP: a failed connection costs
    // no wait.
    why: "unreachable peers learned",
    replace: [
      ["var P2PTrackerClient = class P2PTrackerClient {", `${UNREACHABLE_HELPERS}var P2PTrackerClient = class P2PTrackerClient {`],
      [
        "\t\tpeerItem.potentialConnections.add(peerConnection);\n",
        "\t\tpeerItem.potentialConnections.add(peerConnection);\n\t\tthis.watchConnecting(itemId, peerItem, peerConnection);\n",
      ],
      ["\tonTrackerClientWarning = (warning) => {", `${TRACKER_CLIENT_WATCH_CONNECTING}\tonTrackerClientWarning = (warning) => {`],
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
