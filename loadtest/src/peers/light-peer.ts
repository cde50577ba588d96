// A viewer without video: p2p-media-loader's own engine, configured exactly as the player
// configures it, fed by a live playlist and driven by a simulated playhead that behaves as
// hls.js does (start liveSync behind the edge, buffer ahead in order, stall when the next
// segment is missing, keep the mode's latency). It fetches, validates and shares segments
// like a viewer, over the real tracker and real WebRTC; only decoding is left out.
import type { Core, CoreRequestError, SegmentResponse } from "p2p-media-loader-core";
import { resolveTracker, type StatsBeacon, type StreamDetailResponse, type StreamSessionInfo } from "@peercast/origin/wire";
import { beacon } from "@peercast/origin/testing";
import { SegmentIntegrity } from "@peercast/player/integrity";
import { rejectPeersThatSendBadBytes } from "@peercast/player/peer-rejection";
import { followPeers, highDemandWindow, latencyProfile, type LatencyProfile } from "@peercast/player/latency-profile";
import { parseMasterVariants } from "@peercast/tracker/info-hash";
import { findRendition, parseMediaPlaylist, type PlaylistSegment } from "./media-playlist.js";
import { FetchCauseCounter } from "./fetch-causes.js";
import { loadCoreModule } from "./runtime.js";
import { Playhead, type TimedSegment } from "./playhead.js";

export type Transport = "p2p" | "http";

export interface LightPeerOptions {
  id: string;
  originUrl: string;
  stream: string;
  /** Rendition path name, e.g. "360p". */
  rendition: string;
  transport: Transport;
  /** Corrupts every segment it stores, so what it shares fails the hash check. */
  hostile?: boolean;
}

const TICK_MS = 100;
const PLAYBACK_REPORT_MS = 250;
const SESSION_POLL_MS = 5000;
const FETCH_TIMEOUT_MS = 10_000;

export class LightPeer {
  readonly stats: StatsBeacon;
  private core: Core | undefined;
  private session: StreamSessionInfo | undefined;
  private profile: LatencyProfile | undefined;
  private playlistUrl = "";
  private playlistTimer: NodeJS.Timeout | undefined;
  private readonly listed = new Map<number, TimedSegment>();
  private readonly playhead = new Playhead();
  private loading: number | undefined;
  private startedAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly abort = new AbortController();
  private readonly integrity = new SegmentIntegrity((n) => (this.stats.httpBytes += n));
  private readonly peers = new Set<string>();
  private readonly peersMet = new Set<string>();
  /** Why this peer fetched segments from the origin (see fetch-causes.ts). */
  readonly fetchCauses = new FetchCauseCounter();
  /** Errors seen (bounded), for the report. */
  readonly errors: string[] = [];

  constructor(private readonly o: LightPeerOptions) {
    this.stats = beacon(o.id, { stream: o.stream, rendition: o.rendition, p2p: { download: o.transport === "p2p", upload: o.transport === "p2p" } });
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.every(SESSION_POLL_MS, () => this.pollSession());
    this.every(TICK_MS, () => this.tick());
    this.every(PLAYBACK_REPORT_MS, () => this.playhead.position !== undefined && this.core?.updatePlayback(this.playhead.position, this.playhead.rate));
    await this.pollSession();
  }

  /** Figures as a player's beacon reports them (cumulative counters, current values). */
  snapshot(): StatsBeacon {
    const { firstFrameAt, ...playback } = this.playhead.figures(Date.now());
    return {
      ...this.stats,
      ...playback,
      peers: this.peers.size,
      peersMet: this.peersMet.size,
      startupMs: firstFrameAt === undefined ? undefined : firstFrameAt - this.startedAt,
    };
  }

  /** Serves no new uploads (peers hear it at once); the ones running finish. */
  uploadsOff(): void {
    this.core?.applyDynamicConfig({ isP2PUploadDisabled: true });
  }

  stop(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.timers.forEach((t) => clearInterval(t));
    clearTimeout(this.playlistTimer);
    this.playhead.stop(Date.now());
    this.core?.destroy();
    this.core = undefined;
  }

  private every(ms: number, fn: () => unknown): void {
    let busy = false;
    this.timers.push(
      setInterval(() => {
        if (busy || this.abort.signal.aborted) return;
        busy = true;
        Promise.resolve()
          .then(fn)
          .catch((err: unknown) => this.error(String(err)))
          .finally(() => (busy = false));
      }, ms),
    );
  }

  private error(message: string): void {
    if (this.abort.signal.aborted) return; // a request cut by leaving is not an error
    if (this.errors.length < 20) this.errors.push(message);
  }

  /** A GET as the player makes it; bytes count as the origin counts them (200 bodies). */
  private async fetchBytes(url: string): Promise<ArrayBuffer> {
    const res = await fetch(url, { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]) });
    const body = await res.arrayBuffer();
    if (!res.ok) throw new Error(`${res.status} for ${new URL(url).pathname}`);
    if (new URL(url).pathname.startsWith("/hls/")) this.stats.httpBytes += body.byteLength;
    return body;
  }

  private async fetchText(url: string): Promise<string> {
    return Buffer.from(await this.fetchBytes(url)).toString("utf8");
  }

  /** As the player: a new session (publisher gone longer than the grace period) starts afresh. */
  private async pollSession(): Promise<void> {
    const detail = JSON.parse(await this.fetchText(`${this.o.originUrl}/api/streams/${this.o.stream}`)) as StreamDetailResponse;
    const session = detail.stream.session;
    if (!session || session.id === this.session?.id) return;
    this.reset();
    this.session = session;
    this.stats.sessionId = session.id;
    this.stats.latencyMode = detail.player.latency;
    this.profile = latencyProfile(detail.player.latency, session.segmentDurationSec);
    const masterUrl = new URL(session.masterPlaylist, this.o.originUrl).href;
    const master = await this.fetchText(masterUrl);
    const found = findRendition(master, this.o.rendition);
    const variant = found && parseMasterVariants(master)[found.index];
    if (!found || !variant) throw new Error(`no rendition ${this.o.rendition} in the master playlist`);
    this.playlistUrl = new URL(found.uri, masterUrl).href;
    if (this.o.transport === "p2p") this.core = await this.createCore(detail, session, masterUrl, variant);
    await this.refreshPlaylist();
  }

  private reset(): void {
    this.core?.destroy();
    this.core = undefined;
    clearTimeout(this.playlistTimer);
    this.listed.clear();
    this.loading = undefined;
    this.playhead.reset(Date.now());
  }

  private async createCore(
    detail: StreamDetailResponse,
    session: StreamSessionInfo,
    masterUrl: string,
    variant: ReturnType<typeof parseMasterVariants>[number],
  ): Promise<Core> {
    const { Core: CoreClass, generateStreamShortId } = await loadCoreModule(this.o.id);
    const validate = async (url: string, _range: unknown, data: ArrayBuffer): Promise<boolean> => {
      if (this.o.hostile) {
        new Uint8Array(data).fill(0x47, 188, 188 * 8); // the bytes it stores and shares: not the origin's
        return true;
      }
      const verdict = await this.integrity.check(url, data);
      if (verdict === "mismatch") this.stats.rejectedSegments++;
      return verdict === "ok";
    };
    const profile = this.profile!;
    const core = new CoreClass({
      ...profile.core,
      highDemandTimeWindow: highDemandWindow(profile, 0),
      announceTrackers: detail.player.trackers.map((t) => resolveTracker(t, this.o.originUrl)),
      // The stream's STUN servers (a loopback peer's connection leaves them out: see runtime.ts).
      rtcConfig: { iceServers: detail.player.iceServers },
      swarmId: session.swarmId,
      validateP2PSegment: validate,
      validateHTTPSegment: validate,
    });
    core.addEventListener("onChunkDownloaded", (bytes, source) => {
      if (source === "p2p") this.stats.p2pBytes += bytes;
      else this.stats.httpBytes += bytes;
    });
    core.addEventListener("onChunkUploaded", (bytes) => (this.stats.uploadedBytes += bytes));
    rejectPeersThatSendBadBytes(core); // as the player: a peer that sent bad bytes stays out
    // As the player: alone, everything the buffer wants is urgent (player/src/playback.ts).
    let urgentSec = highDemandWindow(profile, 0);
    const peersChanged = followPeers(profile, (highDemandTimeWindow) => core.applyDynamicConfig({ highDemandTimeWindow: (urgentSec = highDemandTimeWindow) }));
    core.addEventListener("onSegmentStart", ({ segment, downloadSource }) => {
      const position = this.playhead.position;
      const listedAt = this.listed.get(Number(segment.externalId))?.listedAt;
      this.fetchCauses.started(segment.runtimeId, downloadSource, {
        connectedPeers: this.peers.size,
        aheadSec: position === undefined ? undefined : segment.startTime - position,
        urgentSec,
        sinceListedMs: listedAt === undefined ? undefined : Date.now() - listedAt,
      });
    });
    core.addEventListener("onSegmentError", ({ segment, error, downloadSource }) => {
      if (downloadSource === "p2p") this.fetchCauses.peerTryEnded(segment.runtimeId, error.type);
    });
    core.addEventListener("onSegmentAbort", ({ segment, downloadSource }) => {
      if (downloadSource === "p2p") this.fetchCauses.peerTryEnded(segment.runtimeId, "abort");
    });
    core.addEventListener("onPeerConnect", ({ peerId }) => (this.peers.add(peerId), this.peersMet.add(peerId), peersChanged(this.peers.size)));
    core.addEventListener("onPeerClose", ({ peerId }) => (this.peers.delete(peerId), peersChanged(this.peers.size)));
    core.setManifestResponseUrl(masterUrl);
    core.setIsLive(true);
    // Named as p2p-media-loader-hlsjs names an hls.js level: the same swarm as Chromium viewers.
    const index = generateStreamShortId({
      bitrate: variant.bandwidth,
      codecs: variant.videoCodec,
      width: variant.width,
      height: variant.height,
      frameRate: variant.frameRate,
      videoRange: variant.videoRange,
    });
    core.addStreamIfNoneExists({ runtimeId: this.playlistUrl, type: "main", index });
    return core;
  }

  /**
   * Loads the playlist as hls.js in low-latency mode does: where the origin blocks, at once for
   * the next segment (`_HLS_msn`); otherwise again after a target duration, half of one when
   * unchanged.
   */
  private async refreshPlaylist(msn?: number): Promise<void> {
    const url = this.playlistUrl;
    let next = 1000;
    let nextMsn: number | undefined;
    try {
      const playlist = parseMediaPlaylist(await this.fetchText(msn === undefined ? url : `${url}?_HLS_msn=${msn}`), url);
      if (url !== this.playlistUrl || this.abort.signal.aborted) return; // a new session began meanwhile
      // The player fetches the hash list with every playlist (integrity.prefetch on LEVEL_LOADED).
      if (this.core) this.integrity.prefetch(url);
      const added = this.apply(playlist.segments);
      const last = playlist.segments.at(-1)?.seq;
      if (playlist.canBlockReload && added && last !== undefined && !playlist.ended) [next, nextMsn] = [0, last + 1];
      else next = (playlist.targetDurationSec * 1000) / (added ? 1 : 2);
    } catch (err) {
      this.error(`playlist: ${String(err)}`);
    }
    if (url === this.playlistUrl && !this.abort.signal.aborted) this.playlistTimer = setTimeout(() => void this.refreshPlaylist(nextMsn), next);
  }

  /** Takes a playlist's segments in: hls.js places them back to back, date-times kept for latency. */
  private apply(segments: PlaylistSegment[]): number {
    const added: TimedSegment[] = [];
    const present = new Set(segments.map((s) => s.seq));
    for (const segment of segments) {
      if (this.listed.has(segment.seq)) continue;
      const previous = this.listed.get(segment.seq - 1) ?? [...this.listed.values()].at(-1);
      const startSec = previous ? previous.endSec : 0;
      const entry = { segment, startSec, endSec: startSec + segment.durationSec, listedAt: Date.now() };
      this.listed.set(segment.seq, entry);
      added.push(entry);
    }
    const removed = [...this.listed.values()].filter((e) => !present.has(e.segment.seq));
    for (const e of removed) this.listed.delete(e.segment.seq);
    this.core?.updateStream(
      this.playlistUrl,
      added
        .filter((e) => !e.segment.gap)
        .map((e) => ({ runtimeId: e.segment.url, externalId: e.segment.seq, url: e.segment.url, startTime: e.startSec, endTime: e.endSec })),
      removed.filter((e) => !e.segment.gap).map((e) => e.segment.url),
    );
    if (added.length) this.playhead.edgeMoved([...this.listed.values()].at(-1)!, Date.now(), this.profile!.hls.liveSyncDuration);
    return added.length;
  }

  private tick(): void {
    if (!this.profile) return; // no session yet
    this.playhead.advance(Date.now(), this.listed, this.profile.hls);
    void this.loadNext(this.profile.hls.maxBufferLength);
  }

  /** One segment at a time, in order, while the buffer reaches less than maxBufferLength ahead. */
  private async loadNext(maxBufferSec: number): Promise<void> {
    const position = this.playhead.position;
    if (this.loading !== undefined || position === undefined) return;
    const next = [...this.listed.values()].find((e) => e.endSec > position + 0.01 && !e.segment.gap && !this.playhead.has(e.segment.seq));
    if (!next || next.startSec > position + maxBufferSec) return;
    const seq = next.segment.seq;
    this.loading = seq;
    try {
      if (await this.download(next.segment)) this.playhead.buffer(next);
    } catch (err) {
      this.error(`segment ${seq}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500)); // as hls.js retries a failed fragment
    } finally {
      if (this.loading === seq) this.loading = undefined;
    }
  }

  /** Resolves true once the segment's bytes are here (and checked, with P2P). */
  private async download(segment: PlaylistSegment): Promise<boolean> {
    const core = this.core;
    if (core) {
      await new Promise<SegmentResponse>((resolve, reject) => {
        // The engine throws when the segment left the playlist meanwhile or it was destroyed.
        core.loadSegment(segment.url, { onSuccess: resolve, onError: (e: CoreRequestError) => reject(new Error(e.type)) }).catch(reject);
      });
      return true; // the engine ran the validation hooks already
    }
    await this.fetchBytes(segment.url);
    return true; // as the player's HTTP-only mode: hls.js alone, nothing from peers to check
  }
}
