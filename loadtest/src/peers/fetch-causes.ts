// Why a light peer fetched a segment from the origin: the terms of the README's model of copies
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

export interface FetchContext {
  connectedPeers: number;
  /** Segment start minus the playhead, seconds; undefined before the first frame. */
  aheadSec: number | undefined;
  /** The HTTP-urgent window in force (the engine's highDemandTimeWindow). */
  urgentSec: number;
}

const REMEMBERED = 64;

export class FetchCauseCounter {
  readonly counts = noFetchCauses();
  /** Segments tried from a peer lately (insertion order: the oldest go first). */
  private readonly triedFromPeer = new Set<string>();

  started(segmentId: string, source: "http" | "p2p", ctx: FetchContext): void {
    if (source === "p2p") {
      this.triedFromPeer.add(segmentId);
      if (this.triedFromPeer.size > REMEMBERED) this.triedFromPeer.delete(this.triedFromPeer.values().next().value!);
      return;
    }
    this.counts[classify(this.triedFromPeer.has(segmentId), ctx)]++;
  }
}

function classify(triedFromPeer: boolean, ctx: FetchContext): FetchCause {
  if (ctx.connectedPeers === 0) return "alone";
  if (triedFromPeer) return "afterPeer";
  return ctx.aheadSec !== undefined && ctx.aheadSec > ctx.urgentSec ? "elected" : "urgent";
}
