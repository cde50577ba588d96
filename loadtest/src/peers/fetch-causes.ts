// Why a light peer fetched a segment from the origin: the terms of the model of copies in docs/results.md
// per segment, measured instead of inferred. Classified when the engine starts the HTTP attempt.

/**
 * - `elected`: before the segment was urgent (the seeder election chose this peer);
 * - `urgent`: inside the HTTP-urgent window, nothing tried from peers (nobody had it in time);
 * - `afterPeer`: after a try from a peer for the same segment (cut, failed, or switched to HTTP
 *   when it became urgent);
 * - `alone`: no peer connected (joining, or the swarm left).
 */
export type FetchCause = "elected" | "urgent" | "afterPeer" | "alone";
export type FetchCauses = Record<FetchCause, number>;

export const noFetchCauses = (): FetchCauses => ({ elected: 0, urgent: 0, afterPeer: 0, alone: 0 });

/**
 * How the last try from a peer ended before an `afterPeer` fetch: `cut` by the engine when the
 * segment became urgent, `busy` (the peer's uploads were full), `absent`, `quiet` (no bytes for
 * the engine's timeout), `closed` (the connection went), `other`.
 */
export type PeerTryEnd = "cut" | "busy" | "absent" | "quiet" | "closed" | "other";
export type PeerTryEnds = Record<PeerTryEnd, number>;
export const noPeerTryEnds = (): PeerTryEnds => ({ cut: 0, busy: 0, absent: 0, quiet: 0, closed: 0, other: 0 });

/** The core's error types for a try from a peer, by how the report names them. */
const TRY_ENDS: Record<string, PeerTryEnd> = {
  abort: "cut",
  "peer-uploads-full": "busy",
  "peer-segment-absent": "absent",
  "bytes-receiving-timeout": "quiet",
  "peer-closed": "closed",
};
const peerTryEnd = (errorType: string): PeerTryEnd => TRY_ENDS[errorType] ?? "other";

/**
 * A peer's cumulative figures: fetches by cause, their summed time from listing, and for the
 * `afterPeer` ones how the try from a peer ended and how far ahead of the playhead the fetch began.
 */
export interface FetchCauseFigures {
  counts: FetchCauses;
  waitMs: FetchCauses;
  afterPeerEnds: PeerTryEnds;
  afterPeerAheadMs: number;
}

export interface FetchContext {
  connectedPeers: number;
  /** Segment start minus the playhead, seconds; undefined before the first frame. */
  aheadSec: number | undefined;
  /** The HTTP-urgent window in force (the engine's highDemandTimeWindow). */
  urgentSec: number;
  /** Since this peer saw the segment listed. */
  sinceListedMs: number | undefined;
}

const REMEMBERED = 64;

export class FetchCauseCounter {
  readonly counts = noFetchCauses();
  /** Summed time from listing to the fetch, by cause: how long an elected peer waited. */
  readonly waitMs = noFetchCauses();
  readonly afterPeerEnds = noPeerTryEnds();
  afterPeerAheadMs = 0;
  /** Segments tried from a peer lately, with how the last try ended (insertion order: the oldest go first). */
  private readonly triedFromPeer = new Map<string, PeerTryEnd>();

  figures(): FetchCauseFigures {
    return { counts: { ...this.counts }, waitMs: { ...this.waitMs }, afterPeerEnds: { ...this.afterPeerEnds }, afterPeerAheadMs: this.afterPeerAheadMs };
  }

  started(segmentId: string, source: "http" | "p2p", ctx: FetchContext): void {
    if (source === "p2p") {
      this.triedFromPeer.delete(segmentId);
      this.triedFromPeer.set(segmentId, "other");
      if (this.triedFromPeer.size > REMEMBERED) this.triedFromPeer.delete(this.triedFromPeer.keys().next().value!);
      return;
    }
    const end = this.triedFromPeer.get(segmentId);
    const cause = classify(end !== undefined, ctx);
    this.counts[cause]++;
    this.waitMs[cause] += ctx.sinceListedMs ?? 0;
    if (cause !== "afterPeer") return;
    this.afterPeerEnds[end!]++;
    this.afterPeerAheadMs += Math.round((ctx.aheadSec ?? 0) * 1000);
  }

  /** A try from a peer for this segment ended without the segment (the core's error type). */
  peerTryEnded(segmentId: string, errorType: string): void {
    if (this.triedFromPeer.has(segmentId)) this.triedFromPeer.set(segmentId, peerTryEnd(errorType));
  }
}

function classify(triedFromPeer: boolean, ctx: FetchContext): FetchCause {
  if (ctx.connectedPeers === 0) return "alone";
  if (triedFromPeer) return "afterPeer";
  return ctx.aheadSec !== undefined && ctx.aheadSec > ctx.urgentSec ? "elected" : "urgent";
}
