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

/** A peer's cumulative figures: fetches by cause, and their summed time from listing. */
export interface FetchCauseFigures {
  counts: FetchCauses;
  waitMs: FetchCauses;
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
  /** Segments tried from a peer lately (insertion order: the oldest go first). */
  private readonly triedFromPeer = new Set<string>();

  figures(): FetchCauseFigures {
    return { counts: { ...this.counts }, waitMs: { ...this.waitMs } };
  }

  started(segmentId: string, source: "http" | "p2p", ctx: FetchContext): void {
    if (source === "p2p") {
      this.triedFromPeer.add(segmentId);
      if (this.triedFromPeer.size > REMEMBERED) this.triedFromPeer.delete(this.triedFromPeer.values().next().value!);
      return;
    }
    const cause = classify(this.triedFromPeer.has(segmentId), ctx);
    this.counts[cause]++;
    this.waitMs[cause] += ctx.sinceListedMs ?? 0;
  }
}

function classify(triedFromPeer: boolean, ctx: FetchContext): FetchCause {
  if (ctx.connectedPeers === 0) return "alone";
  if (triedFromPeer) return "afterPeer";
  return ctx.aheadSec !== undefined && ctx.aheadSec > ctx.urgentSec ? "elected" : "urgent";
}
