// One stream session on one video element: hls.js, with p2p-media-loader when P2P is on,
// recovering by itself from network and media errors. A new session gets a new Playback.
import Hls, { type ErrorData, type HlsConfig, type PlaylistLoaderConstructor } from "hls.js";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import type { Core } from "p2p-media-loader-core";
import { resolveTracker, type PlayerSettings, type StreamSessionInfo } from "@peercast/origin/wire";
import { plainPlaylistUrls } from "./blocking-reload.js";
import { SegmentIntegrity } from "./integrity.js";
import { rejectPeersThatSendBadBytes } from "./peer-rejection.js";
import { keepLatency, StallMemory } from "./latency-keeper.js";
import { followPeers, highDemandWindow, latencyProfile, type LatencyProfile } from "./latency-profile.js";
import { watchForStalls } from "./stall-watchdog.js";
import type { P2PDecision } from "./p2p-policy.js";
import { UploadCap } from "./upload-cap.js";
import type { ViewerStats } from "./viewer-stats.js";

export interface PlaybackOptions {
  video: HTMLVideoElement;
  session: StreamSessionInfo;
  settings: PlayerSettings;
  p2p: P2PDecision;
  stats: ViewerStats;
  /** A fatal error hls.js cannot recover from: the caller starts a new Playback. */
  onFatal: (details: string) => void;
  /** False while the publisher is away (reconnecting): no new segments is then normal. */
  isLive: () => boolean;
  onLevels: () => void;
  /** A rendition to hold (its path name, e.g. "360p", from the page's ?quality=), else ABR. */
  quality?: string | undefined;
}

/** The swarm is joined at the first frame, or after this long without one. */
const JOIN_SWARM_LATEST_MS = 3000;

export class Playback {
  readonly hls: Hls | undefined;
  readonly engine: HlsJsP2PEngine | undefined;
  private uploadCap: UploadCap | undefined;
  private readonly timers: number[] = [];
  private readonly stops: (() => void)[] = [];
  private networkRetryMs = 500;
  private integrity: SegmentIntegrity | undefined;
  private readonly stalls = new StallMemory();

  constructor(private readonly o: PlaybackOptions) {
    const src = new URL(o.session.masterPlaylist, location.href).href;
    if (!Hls.isSupported()) {
      // Safari/iOS without MSE: the platform's own HLS, over HTTP only.
      o.video.src = src;
      void o.video.play().catch(() => {});
      return;
    }
    const profile = latencyProfile(o.settings.latency, o.session.segmentDurationSec);
    // Low-latency mode only for blocking reloads (blocking-reload.ts): the stream has no parts,
    // and hls.js changes the playback rate there only if maxLiveSyncPlaybackRate is set.
    const hlsConfig: Partial<HlsConfig> = { ...profile.hls, lowLatencyMode: true };
    if (o.p2p.download) {
      const integrity = new SegmentIntegrity((n) => (o.stats.httpBytes += n));
      this.integrity = integrity;
      const validate = async (url: string, _range: unknown, data: ArrayBuffer) => {
        const verdict = await integrity.check(url, data);
        if (verdict === "mismatch") o.stats.rejectedSegments++;
        return verdict === "ok"; // no hash to compare with: not accepted, fetched again
      };
      this.engine = new HlsJsP2PEngine({
        core: {
          ...profile.core,
          highDemandTimeWindow: highDemandWindow(profile, 0),
          // Always the operator's own tracker and ICE servers, never the library's defaults.
          announceTrackers: o.settings.trackers.map((t) => resolveTracker(t, location.href)),
          rtcConfig: { iceServers: o.settings.iceServers },
          swarmId: o.session.swarmId,
          isP2PUploadDisabled: !o.p2p.upload,
          validateP2PSegment: validate,
          // HTTP too: when a peer's transfer is cut after its last byte, the engine completes
          // the download as HTTP with the bytes it already has, checked only by this hook.
          validateHTTPSegment: validate,
          // Off until the first frame (see joinSwarmAfterFirstFrame).
          isP2PDisabled: true,
        },
      });
      this.listenToEngine(this.engine, profile);
      // The engine's core is private in its typings; the version is pinned exactly.
      rejectPeersThatSendBadBytes((this.engine as unknown as { core: Core }).core);
      const engineLoaders = this.engine.getConfigForHlsJs();
      // The engine types its loaders as unknown; they are hls.js loader classes.
      Object.assign(hlsConfig, engineLoaders, { pLoader: plainPlaylistUrls(engineLoaders.pLoader as PlaylistLoaderConstructor) });
      if (o.p2p.upload && o.settings.uploadKbps > 0) this.uploadCap = new UploadCap(this.engine, o.settings.uploadKbps, o.stats);
    }
    const hls = new Hls(hlsConfig);
    this.hls = hls;
    this.engine?.bindHls(hls);
    this.listenToHls(hls);
    hls.loadSource(src);
    hls.attachMedia(o.video);
    this.stops.push(
      keepLatency(hls, o.video, profile.hls.liveSyncDuration, this.stalls),
      watchForStalls(hls, o.video, o.isLive, () => o.onFatal("stalled")),
    );
    if (this.engine) this.joinSwarmAfterFirstFrame(this.engine);
    // The live latency on screen: wall clock minus the PROGRAM-DATE-TIME of the shown frame.
    this.timers.push(
      window.setInterval(() => {
        const shown = hls.playingDate;
        // A clock behind the origin's would give a negative figure: none is better than a wrong one.
        const ms = shown && !o.video.paused ? Date.now() - shown.getTime() : undefined;
        o.stats.latencyMs = ms !== undefined && ms >= 0 ? ms : undefined;
      }, 1000),
    );
  }

  destroy(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.uploadCap?.stop();
    this.stops.forEach((stop) => stop());
    if (this.hls) this.hls.destroy();
    else {
      this.o.video.removeAttribute("src");
      this.o.video.load();
    }
  }

  /**
   * The first segments come over HTTP anyway (no peer is connected yet): meeting the swarm
   * (tracker socket, a peer connection per offer) waits for the first frame, or a few seconds,
   * so that it does not slow the start on a busy device.
   */
  private joinSwarmAfterFirstFrame(engine: HlsJsP2PEngine): void {
    const join = () => {
      clearTimeout(timer);
      this.o.video.removeEventListener("playing", join);
      engine.applyDynamicConfig({ core: { isP2PDisabled: false } });
    };
    const timer = window.setTimeout(join, JOIN_SWARM_LATEST_MS);
    this.timers.push(timer);
    this.o.video.addEventListener("playing", join);
    this.stops.push(() => this.o.video.removeEventListener("playing", join));
  }

  private listenToEngine(engine: HlsJsP2PEngine, profile: LatencyProfile): void {
    const s = this.o.stats;
    engine.addEventListener("onChunkDownloaded", (bytes, source) => {
      if (source === "p2p") s.p2pBytes += bytes;
      else s.httpBytes += bytes;
    });
    engine.addEventListener("onChunkUploaded", (bytes) => (s.uploadedBytes += bytes));
    const peersChanged = followPeers(profile, (highDemandTimeWindow) => engine.applyDynamicConfig({ core: { highDemandTimeWindow } }));
    engine.addEventListener("onPeerConnect", ({ peerId }) => {
      s.peers.add(peerId);
      s.peersMet.add(peerId);
      peersChanged(s.peers.size);
    });
    engine.addEventListener("onPeerClose", ({ peerId }) => {
      s.peers.delete(peerId);
      peersChanged(s.peers.size);
    });
  }

  private listenToHls(hls: Hls): void {
    const s = this.o.stats;
    const v = this.o.video;
    // Playlists never pass through the P2P engine: count them here so the share is true.
    const countPlaylist = (_e: unknown, data: { stats: { loaded: number } }) => (s.httpBytes += data.stats.loaded);
    hls.on(Hls.Events.MANIFEST_LOADED, countPlaylist);
    hls.on(Hls.Events.LEVEL_LOADED, countPlaylist);
    hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => this.integrity?.prefetch(data.details.url));
    hls.on(Hls.Events.AUDIO_TRACK_LOADED, countPlaylist);
    // Segments reach the byte counters through the engine's events, except those the engine
    // hands to hls.js's own loader (it does so when its core has not seen the playlist update
    // that lists them yet): those, and every segment without P2P, are counted here.
    const bypassed = new Set<string>();
    hls.on(Hls.Events.FRAG_LOADING, (_e, { frag }) => this.engine && !engineLoads(this.engine, frag.url) && bypassed.add(frag.url));
    hls.on(Hls.Events.FRAG_LOADED, (_e, { frag }) => (!this.engine || bypassed.delete(frag.url)) && (s.httpBytes += frag.stats.loaded));
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      const held = hls.levels.findIndex((_l, i) => this.renditionName(i) === this.o.quality);
      if (held >= 0) hls.currentLevel = held; // manual: ABR stays off until the viewer picks Auto
      this.o.onLevels();
      // Muted autoplay is allowed everywhere; the viewer unmutes with the visible control.
      void v.play().catch(() => {});
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      s.rendition = this.renditionName(data.level);
      this.o.onLevels();
    });
    hls.on(Hls.Events.FRAG_LOADED, () => (this.networkRetryMs = 500));
    // hls.js re-attaches the media after some errors: the element pauses and the P2P engine
    // drops its streams. Start afresh rather than play on half-broken.
    let attached = 0;
    hls.on(Hls.Events.MEDIA_ATTACHED, () => ++attached > 1 && this.o.onFatal("media re-attached"));
    hls.on(Hls.Events.ERROR, (_e, data) => this.onError(hls, data));
  }

  private onError(hls: Hls, data: ErrorData): void {
    if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) this.stalls.stalled(performance.now());
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && hls.levels.length === 0) {
      this.o.onFatal(data.details); // no master playlist yet: only a new load fetches it again
    } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
      // The origin or the network is away: retry with backoff, keep what is buffered.
      this.timers.push(window.setTimeout(() => hls.startLoad(), this.networkRetryMs));
      this.networkRetryMs = Math.min(this.networkRetryMs * 2, 8000);
    } else {
      // recoverMediaError would re-attach the media: see MEDIA_ATTACHED above.
      this.o.onFatal(data.details);
    }
  }

  /** The rendition's path name (e.g. "360p") from its playlist URL. */
  renditionName(level: number): string | undefined {
    const url = this.hls?.levels[level]?.url[0];
    return url?.split("/").at(-2);
  }
}

/** Whether the P2P engine loads this segment itself (the test its fragment loader makes). */
function engineLoads(engine: HlsJsP2PEngine, url: string): boolean {
  // The engine's core is private in its typings; the version is pinned exactly.
  const core = (engine as unknown as { core: Pick<Core, "hasSegment" | "isSegmentLoadable"> }).core;
  return core.hasSegment(url) && core.isSegmentLoadable(url);
}
