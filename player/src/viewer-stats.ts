// What this viewer got from where, and how playback went: shown in the P2P panel and sent
// to the origin as cumulative counters (a lost or repeated beacon never skews its totals).
import type { LatencyMode, P2POffReason, StatsBeacon } from "@peercast/origin/wire";

const HOUR_MS = 3_600_000;

export class ViewerStats {
  readonly viewerId = randomId();
  httpBytes = 0;
  p2pBytes = 0;
  uploadedBytes = 0;
  rejectedSegments = 0;
  stalls = 0;
  peers = new Set<string>();
  /** Every peer connected since the page loaded (never cleared: a count of whom this viewer reached). */
  readonly peersMet = new Set<string>();
  rendition: string | undefined;
  sessionId: string | undefined;
  startupMs: number | undefined;
  latencyMs: number | undefined;
  latencyMode: LatencyMode = "balanced";
  p2p: { download: boolean; upload: boolean; reason?: P2POffReason } = { download: false, upload: false };

  private stallMsDone = 0;
  private stallSince: number | undefined;
  private playingMsDone = 0;
  private playingSince: number | undefined;
  /** When the player could first start: page load, or the moment the stream went live. */
  private startRequestedAt: number | undefined;
  /** A new playback is starting: its first wait is start-up, not a stall. */
  private awaitingFirstFrame = true;

  constructor(readonly stream: string) {}

  get share(): number {
    const total = this.httpBytes + this.p2pBytes;
    return total === 0 ? 0 : this.p2pBytes / total;
  }

  /** Binds to a video element's events: first frame, stalls, time spent playing. */
  watch(video: HTMLVideoElement): () => void {
    const now = () => performance.now();
    const on: [string, () => void][] = [
      [
        "playing",
        () => {
          if (this.startupMs === undefined && this.startRequestedAt !== undefined) this.startupMs = Math.round(now() - this.startRequestedAt);
          this.awaitingFirstFrame = false;
          this.endStall();
          this.playingSince ??= now();
        },
      ],
      [
        "waiting",
        () => {
          // A wait before a playback's first frame or during a seek is not a stall.
          if (this.awaitingFirstFrame || video.seeking || this.stallSince !== undefined) return;
          this.stalls++;
          this.stallSince = now();
          this.pausePlayingClock();
        },
      ],
      ["pause", () => this.pausePlayingClock()],
      [
        "emptied",
        () => {
          this.endStall();
          this.pausePlayingClock();
        },
      ],
    ];
    for (const [name, fn] of on) video.addEventListener(name, fn);
    return () => on.forEach(([name, fn]) => video.removeEventListener(name, fn));
  }

  /** Start-up counts from the earliest moment playback could begin (performance.now() time). */
  requestStart(at: number): void {
    this.startRequestedAt ??= at;
  }

  expectFirstFrame(): void {
    this.awaitingFirstFrame = true;
  }

  /** Playback stopped (ended, offline, rebuilt): figures of the picture no longer apply. */
  stopped(): void {
    this.endStall();
    this.pausePlayingClock();
    this.latencyMs = undefined;
    this.rendition = undefined;
    this.peers.clear();
  }

  stallMs(): number {
    return this.stallMsDone + (this.stallSince === undefined ? 0 : performance.now() - this.stallSince);
  }

  playingMs(): number {
    return this.playingMsDone + (this.playingSince === undefined ? 0 : performance.now() - this.playingSince);
  }

  beacon(final = false): StatsBeacon {
    return {
      v: 1,
      viewerId: this.viewerId,
      stream: this.stream,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
      httpBytes: this.httpBytes,
      p2pBytes: this.p2pBytes,
      uploadedBytes: this.uploadedBytes,
      rejectedSegments: this.rejectedSegments,
      stalls: this.stalls,
      stallMs: Math.round(this.stallMs()),
      playingMs: Math.round(this.playingMs()),
      peers: this.peers.size,
      ...(this.peersMet.size > 0 ? { peersMet: this.peersMet.size } : {}),
      ...(this.rendition ? { rendition: this.rendition } : {}),
      // Out of range (a tab in the background for hours, a clock far off): left out, not sent wrong.
      ...(this.startupMs !== undefined && this.startupMs < HOUR_MS ? { startupMs: this.startupMs } : {}),
      ...(this.latencyMs !== undefined && this.latencyMs < HOUR_MS ? { latencyMs: Math.round(this.latencyMs) } : {}),
      latencyMode: this.latencyMode,
      p2p: { ...this.p2p },
      ...(final ? { final: true } : {}),
    };
  }

  private endStall(): void {
    if (this.stallSince === undefined) return;
    this.stallMsDone += performance.now() - this.stallSince;
    this.stallSince = undefined;
  }

  private pausePlayingClock(): void {
    if (this.playingSince === undefined) return;
    this.playingMsDone += performance.now() - this.playingSince;
    this.playingSince = undefined;
  }
}

/** Sends the beacon every `intervalMs`, and a last one when the page goes away. */
export function startBeacons(stats: ViewerStats, intervalMs: number): () => void {
  const url = "/api/stats";
  const send = () => {
    if (stats.startupMs === undefined && stats.httpBytes === 0) return; // nothing watched yet
    void fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(stats.beacon()), keepalive: true }).catch(() => {});
  };
  const timer = setInterval(send, intervalMs);
  // sendBeacon survives the page's unload; it posts text/plain, which the origin accepts.
  const onHide = () => navigator.sendBeacon?.(url, JSON.stringify(stats.beacon(true)));
  addEventListener("pagehide", onHide);
  return () => {
    clearInterval(timer);
    removeEventListener("pagehide", onHide);
  };
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}
