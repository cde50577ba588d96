// Viewer figures from the players' stats beacons: per-stream metrics and the viewer count.
import type { Metrics } from "../metrics.js";
import type { StatsBeacon } from "../wire/index.js";
import { ClientLimiter } from "./client-limiter.js";

export type BeaconResult =
  | "accepted"
  | "invalid"
  | "too_large"
  | "unsupported_type"
  | "rate_limited"
  | "backwards"
  | "stream_changed"
  | "unknown_stream"
  | "viewers_per_address"
  | "full";

export interface Refusal {
  result: Exclude<BeaconResult, "accepted">;
  status: 400 | 429 | 503;
  error: string;
}

/** The beacon's cumulative counters: the origin adds their differences from one beacon to the next. */
const COUNTERS = ["httpBytes", "p2pBytes", "uploadedBytes", "rejectedSegments", "stalls", "stallMs", "playingMs"] as const;
type Counters = Pick<StatsBeacon, (typeof COUNTERS)[number]>;
const ZERO: Counters = { httpBytes: 0, p2pBytes: 0, uploadedBytes: 0, rejectedSegments: 0, stalls: 0, stallMs: 0, playingMs: 0 };

interface Viewer {
  stream: string;
  /** The client address key (rateKey) of its last accepted beacon: the one it is counted under. */
  client: string;
  last: Counters;
  peers: number;
  seenAt: number;
  /** In the viewer count (and the peer and share gauges): recent, and not gone (final). */
  counted: boolean;
  startupSeen: boolean;
}

/** What the counted viewers of one stream add up to. */
interface StreamTotals {
  viewers: number;
  peers: number;
  httpBytes: number;
  p2pBytes: number;
}

export interface ViewerStatsOptions {
  metrics: Metrics;
  /** The players' beacon interval: a viewer counts for 3 of them after its last beacon. */
  intervalMs: number;
  /** Beacons for other streams are refused (their names would become metric labels). */
  knownStream: (stream: string) => boolean;
  /** Per client address (see ClientLimiter). */
  ratePerMin: number;
  burst: number;
  /** Viewers tracked at most; a new one beyond is refused unless the oldest has gone quiet. */
  maxViewers: number;
  /**
   * Counted (live) viewers per client address at most: a NAT's audience fits, while one address
   * inventing viewerIds can neither inflate the viewer count past it nor hold more of maxViewers
   * (viewers that went quiet or left no longer count, and make room).
   */
  viewersPerAddress: number;
  /** Client buckets kept at most. */
  maxClients?: number;
  /** Accepted beacons of one viewer are at least this far apart (a page-hide beacon excepted). */
  minGapMs?: number;
  /**
   * How long a quiet viewer's counters are kept: a background tab may beacon once a minute, and
   * forgetting it would count its whole history again when it next reports.
   */
  retainMs?: number;
  now?: () => number;
}

export class ViewerStats {
  /** Ordered by the last accepted beacon, oldest first (every accept moves its viewer to the end). */
  private readonly viewers = new Map<string, Viewer>();
  private readonly totals = new Map<string, StreamTotals>();
  /** Counted viewers per client address; an address leaves the map at 0. */
  private readonly countedPerClient = new Map<string, number>();
  private readonly clients: ClientLimiter;
  private readonly now: () => number;
  private readonly countWindowMs: number;
  private readonly minGapMs: number;
  private readonly retainMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ViewerStatsOptions) {
    this.now = o.now ?? (() => performance.now());
    this.countWindowMs = 3 * o.intervalMs;
    // Half an interval: a player's timer jitter never trips it, a loop sending flat out does.
    this.minGapMs = o.minGapMs ?? Math.min(1000, o.intervalMs / 2);
    this.retainMs = Math.max(o.retainMs ?? 10 * 60_000, this.countWindowMs);
    this.clients = new ClientLimiter({ ratePerMin: o.ratePerMin, burst: o.burst, maxClients: o.maxClients ?? 50_000, now: this.now });
  }

  /** Expires viewers and client buckets every interval until stop(). */
  start(): void {
    this.timer ??= setInterval(() => this.sweep(), this.o.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One request from a client (a rateKey, any body): false once its bucket is empty. */
  admitClient(key: string): boolean {
    return this.clients.take(key);
  }

  /**
   * Takes a valid beacon from `client` (the sender's rateKey) into the metrics, or refuses it
   * without changing anything but the refusal count.
   */
  record(b: StatsBeacon, client: string): Refusal | undefined {
    const now = this.now();
    const refusal = this.check(b, client, now);
    if (refusal) {
      this.o.metrics.statsBeacons.inc({ result: refusal.result });
      return refusal;
    }
    this.apply(b, client, this.viewers.get(b.viewerId), now);
    this.o.metrics.statsBeacons.inc({ result: "accepted" });
    return undefined;
  }

  /** Current viewers of a stream (see ViewerStatsOptions.intervalMs). */
  viewersOf(stream: string): number {
    return this.totals.get(stream)?.viewers ?? 0;
  }

  get trackedViewers(): number {
    return this.viewers.size;
  }

  /** Uncounts viewers quiet for 3 intervals, forgets those quiet past retainMs. */
  sweep(): void {
    const now = this.now();
    for (const [id, v] of this.viewers) {
      if (now - v.seenAt < this.countWindowMs) break; // the rest are more recent
      if (v.counted) this.uncount(v);
      if (now - v.seenAt >= this.retainMs) this.viewers.delete(id);
    }
    this.clients.sweep();
  }

  private check(b: StatsBeacon, client: string, now: number): Refusal | undefined {
    if (!this.o.knownStream(b.stream)) return { result: "unknown_stream", status: 400, error: "stream: not a configured stream" };
    const v = this.viewers.get(b.viewerId);
    // A beacon that would add a counted viewer to this address (a new one, one back from quiet,
    // or one that moved here) must find room under the address's cap; the final one adds none.
    const adds = b.final !== true && !(v?.counted && v.client === client);
    if (adds && (this.countedPerClient.get(client) ?? 0) >= this.o.viewersPerAddress) {
      return {
        result: "viewers_per_address",
        status: 429,
        error: `too many viewers are reporting from this address (at most ${this.o.viewersPerAddress}); try again later`,
      };
    }
    if (!v) {
      if (this.viewers.size >= this.o.maxViewers && !this.evictQuiet(now)) {
        return { result: "full", status: 503, error: "too many viewers are reporting; try again later" };
      }
      return undefined;
    }
    if (v.stream !== b.stream) return { result: "stream_changed", status: 400, error: "stream: this viewerId reported another stream" };
    // The page-hide beacon may follow a regular one at once; it ends the viewer, so it comes once.
    const leaving = b.final === true && v.counted;
    if (!leaving && now - v.seenAt < this.minGapMs) {
      return { result: "rate_limited", status: 429, error: `at most one beacon per ${this.minGapMs} ms per viewer` };
    }
    const back = COUNTERS.find((k) => b[k] < v.last[k]);
    if (back) return { result: "backwards", status: 400, error: `${back}: lower than this viewer reported before` };
    return undefined;
  }

  private apply(b: StatsBeacon, client: string, v: Viewer | undefined, now: number): void {
    const m = this.o.metrics;
    const stream = b.stream;
    const last = v?.last ?? ZERO;
    m.viewerBytes.inc({ stream, source: "http" }, b.httpBytes - last.httpBytes);
    m.viewerBytes.inc({ stream, source: "p2p" }, b.p2pBytes - last.p2pBytes);
    m.viewerUploadedBytes.inc({ stream }, b.uploadedBytes - last.uploadedBytes);
    m.viewerRejectedSegments.inc({ stream }, b.rejectedSegments - last.rejectedSegments);
    m.viewerStalls.inc({ stream }, b.stalls - last.stalls);
    m.viewerStallSeconds.inc({ stream }, (b.stallMs - last.stallMs) / 1000);
    m.viewerPlayingSeconds.inc({ stream }, (b.playingMs - last.playingMs) / 1000);
    if (b.startupMs !== undefined && !v?.startupSeen) m.viewerStartup.observe({ stream }, b.startupMs / 1000);
    if (b.latencyMs !== undefined) m.viewerLatency.observe({ stream, mode: b.latencyMode }, b.latencyMs / 1000);

    if (v?.counted) this.uncount(v, false);
    const next: Viewer = {
      stream,
      client,
      last: Object.fromEntries(COUNTERS.map((k) => [k, b[k]])) as Counters,
      peers: b.peers,
      seenAt: now,
      counted: b.final !== true,
      startupSeen: (v?.startupSeen ?? false) || b.startupMs !== undefined,
    };
    if (next.counted) {
      this.countedPerClient.set(client, (this.countedPerClient.get(client) ?? 0) + 1);
      const t = this.totalsOf(stream);
      t.viewers++;
      t.peers += next.peers;
      t.httpBytes += next.last.httpBytes;
      t.p2pBytes += next.last.p2pBytes;
    }
    this.viewers.delete(b.viewerId); // re-inserted last: the map stays ordered by seenAt
    this.viewers.set(b.viewerId, next);
    this.publish(stream);
  }

  /** Makes room for a new viewer by forgetting the longest-quiet one, if it no longer counts. */
  private evictQuiet(now: number): boolean {
    const oldest = this.viewers.entries().next().value;
    if (!oldest) return false;
    const [id, v] = oldest;
    if (v.counted && now - v.seenAt < this.countWindowMs) return false;
    if (v.counted) this.uncount(v);
    this.viewers.delete(id);
    return true;
  }

  private uncount(v: Viewer, publish = true): void {
    const n = this.countedPerClient.get(v.client) ?? 0;
    if (n <= 1) this.countedPerClient.delete(v.client);
    else this.countedPerClient.set(v.client, n - 1);
    const t = this.totalsOf(v.stream);
    t.viewers--;
    t.peers -= v.peers;
    t.httpBytes -= v.last.httpBytes;
    t.p2pBytes -= v.last.p2pBytes;
    v.counted = false;
    if (publish) this.publish(v.stream);
  }

  private totalsOf(stream: string): StreamTotals {
    let t = this.totals.get(stream);
    if (!t) this.totals.set(stream, (t = { viewers: 0, peers: 0, httpBytes: 0, p2pBytes: 0 }));
    return t;
  }

  private publish(stream: string): void {
    const t = this.totalsOf(stream);
    // Sums past 2^53 round: start from exact zeros whenever the audience is empty.
    if (t.viewers === 0) Object.assign(t, { peers: 0, httpBytes: 0, p2pBytes: 0 });
    const m = this.o.metrics;
    const bytes = t.httpBytes + t.p2pBytes;
    m.viewers.set({ stream }, t.viewers);
    m.viewerPeers.set({ stream }, t.peers);
    m.viewerPeerShare.set({ stream }, bytes > 0 ? t.p2pBytes / bytes : 0);
  }
}
