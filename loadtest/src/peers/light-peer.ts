// A viewer without video: p2p-media-loader's own engine, configured exactly as the player
// configures it, fed by a live playlist and driven by a simulated playhead that behaves as
// hls.js does (start liveSync behind the edge, buffer ahead in order, stall when the next
// segment is missing, keep the mode's latency). It fetches, validates and shares segments
// like a viewer, over the real tracker and real WebRTC; only decoding is left out.
import type { Core, CoreRequestError, SegmentResponse } from "p2p-media-loader-core";
import type { StatsBeacon, StreamDetailResponse, StreamSessionInfo } from "@peercast/origin/wire";
import { SegmentIntegrity } from "@peercast/player/integrity";
import { latencyProfile, type LatencyProfile } from "@peercast/player/latency-profile";
import { parseMasterVariants, streamShortId } from "@peercast/tracker/info-hash";
import { parseMediaPlaylist, type PlaylistSegment } from "./media-playlist.js";
import { loadCoreClass } from "./runtime.js";

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
const PLAYLIST_REFRESH_MS = 1000;
const FETCH_TIMEOUT_MS = 10_000;
// The latency keeper's numbers (player/src/latency-keeper.ts).
const TOO_CLOSE_SEC = 1;
const TOO_FAR_SEC = 1.5;

interface Loaded {
  segment: PlaylistSegment;
  startSec: number;
  endSec: number;
}

export class LightPeer {
  readonly stats: StatsBeacon;
  private core: Core | undefined;
  private session: StreamSessionInfo | undefined;
  private profile: LatencyProfile | undefined;
  private playlistUrl = "";
  /** Media time 0 is this PROGRAM-DATE-TIME (epoch ms): stream time from wall-clock stamps. */
  private t0Ms: number | undefined;
  private readonly listed = new Map<number, Loaded>();
  private readonly buffered = new Map<number, Loaded>();
  private loading: number | undefined;
  private liveEdgeSec = 0;
  private position: number | undefined;
  private rate = 1;
  private playingSince: number | undefined;
  private stallSince: number | undefined;
  private startedAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly integrity = new SegmentIntegrity((n) => (this.stats.httpBytes += n));
  private readonly peers = new Set<string>();
  /** Errors seen (bounded), for the report. */
  readonly errors: string[] = [];

  constructor(private readonly o: LightPeerOptions) {
    this.stats = {
      v: 1,
      viewerId: o.id,
      stream: o.stream,
      httpBytes: 0,
      p2pBytes: 0,
      uploadedBytes: 0,
      rejectedSegments: 0,
      stalls: 0,
      stallMs: 0,
      playingMs: 0,
      peers: 0,
      rendition: o.rendition,
      latencyMode: "balanced",
      p2p: { download: o.transport === "p2p", upload: o.transport === "p2p" },
    };
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    await this.pollSession();
    this.every(SESSION_POLL_MS, () => this.pollSession());
    this.every(TICK_MS, () => this.tick());
    // hls.js reloads a live playlist that did not change after half a target duration.
    this.every(PLAYLIST_REFRESH_MS, () => this.playlistUrl && this.refreshPlaylist());
    this.every(PLAYBACK_REPORT_MS, () => this.position !== undefined && this.core?.updatePlayback(this.position, this.rate));
  }

  /** Figures as a player's beacon reports them (cumulative counters, current values). */
  snapshot(): StatsBeacon {
    const now = Date.now();
    const s = this.stats;
    return {
      ...s,
      peers: this.peers.size,
      stallMs: s.stallMs + (this.stallSince !== undefined ? now - this.stallSince : 0),
      playingMs: s.playingMs + (this.playingSince !== undefined ? now - this.playingSince : 0),
      latencyMs: this.position !== undefined && this.t0Ms !== undefined ? Math.round(now - (this.t0Ms + this.position * 1000)) : undefined,
    };
  }

  stop(): void {
    this.stopped = true;
    this.timers.forEach((t) => clearInterval(t));
    this.pause("stopped");
    this.core?.destroy();
    this.core = undefined;
  }

  private every(ms: number, fn: () => unknown): void {
    let busy = false;
    this.timers.push(
      setInterval(() => {
        if (busy || this.stopped) return;
        busy = true;
        Promise.resolve()
          .then(fn)
          .catch((err: unknown) => this.error(String(err)))
          .finally(() => (busy = false));
      }, ms),
    );
  }

  private error(message: string): void {
    if (this.errors.length < 20) this.errors.push(message);
  }

  private async fetchText(url: string): Promise<string> {
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    const body = await res.text();
    if (url.startsWith(`${this.o.originUrl}/hls/`)) this.stats.httpBytes += Buffer.byteLength(body);
    if (!res.ok) throw new Error(`${res.status} for ${new URL(url).pathname}`);
    return body;
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
    const uris = master.split("\n").filter((l) => l.trim() && !l.startsWith("#"));
    const index = uris.findIndex((u) => u.split("/").at(-2) === this.o.rendition);
    const variant = parseMasterVariants(master)[index];
    if (!variant) throw new Error(`no rendition ${this.o.rendition} in the master playlist`);
    this.playlistUrl = new URL(uris[index]!, masterUrl).href;
    if (this.o.transport === "p2p") this.core = await this.createCore(detail, session, masterUrl, streamShortId(variant));
    await this.refreshPlaylist();
  }

  private reset(): void {
    this.core?.destroy();
    this.core = undefined;
    this.listed.clear();
    this.buffered.clear();
    this.loading = undefined;
    this.position = undefined;
    this.t0Ms = undefined;
    this.pause("stopped");
  }

  private async createCore(detail: StreamDetailResponse, session: StreamSessionInfo, masterUrl: string, index: string): Promise<Core> {
    const CoreClass = await loadCoreClass(this.o.id);
    const validate = async (url: string, _range: unknown, data: ArrayBuffer): Promise<boolean> => {
      if (this.o.hostile) {
        new Uint8Array(data).fill(0x47, 188, 188 * 8); // the bytes it stores and shares: not the origin's
        return true;
      }
      const verdict = await this.integrity.check(url, data);
      if (verdict === "mismatch") this.stats.rejectedSegments++;
      return verdict === "ok";
    };
    const core = new CoreClass({
      ...this.profile!.core,
      announceTrackers: detail.player.trackers,
      rtcConfig: { iceServers: [] },
      swarmId: session.swarmId,
      validateP2PSegment: validate,
      validateHTTPSegment: validate,
    });
    core.addEventListener("onChunkDownloaded", (bytes, source) => {
      if (source === "p2p") this.stats.p2pBytes += bytes;
      else this.stats.httpBytes += bytes;
    });
    core.addEventListener("onChunkUploaded", (bytes) => (this.stats.uploadedBytes += bytes));
    core.addEventListener("onPeerConnect", ({ peerId }) => this.peers.add(peerId));
    core.addEventListener("onPeerClose", ({ peerId }) => this.peers.delete(peerId));
    core.setManifestResponseUrl(masterUrl);
    core.setIsLive(true);
    core.addStreamIfNoneExists({ runtimeId: this.playlistUrl, type: "main", index });
    return core;
  }

  private async refreshPlaylist(): Promise<void> {
    const url = this.playlistUrl;
    const playlist = parseMediaPlaylist(await this.fetchText(url), url);
    if (url !== this.playlistUrl) return; // a new session began meanwhile
    const added: Loaded[] = [];
    const present = new Set<number>();
    for (const segment of playlist.segments) {
      present.add(segment.seq);
      if (segment.gap || this.listed.has(segment.seq)) continue;
      this.t0Ms ??= segment.pdtMs;
      const startSec = (segment.pdtMs - this.t0Ms) / 1000;
      const entry = { segment, startSec, endSec: startSec + segment.durationSec };
      this.listed.set(segment.seq, entry);
      added.push(entry);
    }
    const removed = [...this.listed.values()].filter((e) => !present.has(e.segment.seq));
    for (const e of removed) this.listed.delete(e.segment.seq);
    this.core?.updateStream(
      this.playlistUrl,
      added.map((e) => ({ runtimeId: e.segment.url, externalId: e.segment.seq, url: e.segment.url, startTime: e.startSec, endTime: e.endSec })),
      removed.map((e) => e.segment.url),
    );
    const last = [...this.listed.values()].at(-1);
    if (last) this.liveEdgeSec = last.endSec;
    // hls.js starts liveSync behind the live edge.
    if (this.position === undefined && last) this.position = Math.max(0, this.liveEdgeSec - this.profile!.hls.liveSyncDuration);
  }

  private tick(): void {
    if (this.position === undefined) return;
    const hls = this.profile!.hls;
    const now = Date.now();
    const current = this.bufferedAt(this.position);
    if (current) {
      if (this.playingSince === undefined) this.resume(now);
      else this.position = Math.min(current.endSec, this.position + ((TICK_MS / 1000) * this.rate));
      this.keepLatency(hls.liveSyncDuration);
    } else if (this.playingSince !== undefined) {
      this.pause("stall");
    }
    // Far too far behind (after a long stall): jump back to the sync point, as hls.js does.
    if (this.liveEdgeSec - this.position > hls.liveMaxLatencyDuration) this.position = this.liveEdgeSec - hls.liveSyncDuration;
    for (const [seq, e] of this.buffered) if (e.endSec < this.position - hls.backBufferLength) this.buffered.delete(seq);
    void this.loadNext(hls.maxBufferLength);
  }

  private bufferedAt(position: number): Loaded | undefined {
    for (const e of this.buffered.values()) if (e.startSec <= position + 0.01 && position < e.endSec - 0.01) return e;
    return undefined;
  }

  private resume(now: number): void {
    if (this.stats.startupMs === undefined) this.stats.startupMs = now - this.startedAt;
    if (this.stallSince !== undefined) this.stats.stallMs += now - this.stallSince;
    this.stallSince = undefined;
    this.playingSince = now;
  }

  private pause(why: "stall" | "stopped"): void {
    const now = Date.now();
    if (this.playingSince !== undefined) this.stats.playingMs += now - this.playingSince;
    this.playingSince = undefined;
    if (why === "stall") {
      this.stats.stalls++;
      this.stallSince = now;
    } else if (this.stallSince !== undefined) {
      this.stats.stallMs += now - this.stallSince;
      this.stallSince = undefined;
    }
  }

  private keepLatency(target: number): void {
    const off = this.liveEdgeSec - this.position! - target;
    if (off < -TOO_CLOSE_SEC) this.rate = 0.9;
    else if (off > TOO_FAR_SEC) this.rate = 1.08;
    else if ((this.rate < 1 && off > -0.25) || (this.rate > 1 && off < 0.25)) this.rate = 1;
  }

  /** One segment at a time, in order, while the buffer reaches less than maxBufferLength ahead. */
  private async loadNext(maxBufferSec: number): Promise<void> {
    if (this.loading !== undefined) return;
    const position = this.position!;
    const next = [...this.listed.values()].find((e) => e.endSec > position + 0.01 && !this.buffered.has(e.segment.seq));
    if (!next || next.startSec > position + maxBufferSec) return;
    const seq = next.segment.seq;
    this.loading = seq;
    try {
      if (await this.download(next.segment)) this.buffered.set(seq, next);
    } catch (err) {
      this.error(`segment ${seq}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500)); // as hls.js retries a failed fragment
    } finally {
      if (this.loading === seq) this.loading = undefined;
    }
  }

  /** Resolves true once the segment's bytes are here and checked. */
  private async download(segment: PlaylistSegment): Promise<boolean> {
    const core = this.core;
    if (core) {
      await new Promise<SegmentResponse>((resolve, reject) => {
        void core.loadSegment(segment.url, { onSuccess: resolve, onError: (e: CoreRequestError) => reject(new Error(e.type)) });
      });
      return true; // the engine ran the validation hooks already
    }
    const res = await fetch(segment.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    const data = await res.arrayBuffer();
    this.stats.httpBytes += data.byteLength;
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return true; // as the player's HTTP-only mode: hls.js alone, nothing from peers to check
  }
}
