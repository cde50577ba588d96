// One swarm's reports of peers that sent bytes failing the hash check (players send them over
// their tracker socket, `peercast_reject`). A reported pair is never introduced to each other
// again; an offender reported from enough client addresses (so that one viewer, or one NAT's
// worth of them, cannot ban honest peers alone) is introduced to nobody. Bounded per swarm,
// and dropped with the swarm.
//
// Players also report peers they could not connect to (`peercast_unreachable`: no connection
// within a timeout, or ICE failed; symmetric NATs on both sides, blocked UDP). Such a pair is
// not introduced again for a while, so that the offers of each announce go to peers it can
// reach. Nobody is punished for it: the report only touches the reporter's own pairs.

/** Reported pairs one swarm remembers; past it new reports are refused (kept bans stay). */
export const MAX_REPORTED_PAIRS = 4096;
/** Peers one reporter may report in one swarm: a viewer meets a few hostile peers, not dozens. */
export const MAX_REPORTS_PER_REPORTER = 16;
/** Distinct reporter addresses (client address keys) that ban an offender. */
export const BAN_AFTER_ADDRESSES = 2;

/** How long an unreachable pair is not introduced again (networks change: a phone moves). */
export const UNREACHABLE_FOR_MS = 10 * 60_000;
/** Unreachable pairs one swarm remembers (a symmetric NAT fails with most of a swarm). */
export const MAX_UNREACHABLE_PAIRS = 65_536;
/** Unreachable peers one reporter may name in one swarm. */
export const MAX_UNREACHABLE_PER_REPORTER = 256;

export type UnreachableOutcome = "recorded" | "duplicate" | "reporter_full" | "swarm_full";

export type ReportOutcome = "recorded" | "banned" | "duplicate" | "reporter_banned" | "reporter_full" | "swarm_full";

export class PeerReports {
  /** peer id -> the peers it must not be introduced to (both directions of each pair). */
  private readonly avoid = new Map<string, Set<string>>();
  private readonly reportsBy = new Map<string, number>();
  /** offender -> the client address keys that reported it, until it is banned. */
  private readonly addressesAgainst = new Map<string, Set<string>>();
  private readonly bannedIds = new Set<string>();
  private pairs = 0;
  /** peer id -> peer it could not connect to (either side reported) -> until when (ms). */
  private readonly unreachable = new Map<string, Map<string, number>>();
  private readonly unreachableBy = new Map<string, number>();
  private unreachablePairs = 0;

  get bans(): number {
    return this.bannedIds.size;
  }

  banned(peerId: string): boolean {
    return this.bannedIds.has(peerId);
  }

  /** Whether these two peers must not be introduced to each other. */
  avoids(a: string, b: string, nowMs = Date.now()): boolean {
    return this.bannedIds.has(a) || this.bannedIds.has(b) || (this.avoid.get(a)?.has(b) ?? false) || this.unreachableNow(a, b, nowMs);
  }

  /** Records that `reporter` could not connect to `other`; the pair is avoided for UNREACHABLE_FOR_MS. */
  reportUnreachable(reporter: string, other: string, nowMs = Date.now()): UnreachableOutcome {
    if (this.unreachableNow(reporter, other, nowMs)) return "duplicate";
    const reported = this.unreachableBy.get(reporter) ?? 0;
    if (reported >= MAX_UNREACHABLE_PER_REPORTER) return "reporter_full";
    if (this.unreachablePairs >= MAX_UNREACHABLE_PAIRS) return "swarm_full";
    this.unreachableBy.set(reporter, reported + 1);
    // A pair that expired and is reported again is still one pair (both directions are kept).
    if (!this.unreachable.get(reporter)?.has(other)) this.unreachablePairs++;
    const until = nowMs + UNREACHABLE_FOR_MS;
    for (const [a, b] of [
      [reporter, other],
      [other, reporter],
    ] as const) {
      const set = this.unreachable.get(a);
      if (set) set.set(b, until);
      else this.unreachable.set(a, new Map([[b, until]]));
    }
    return "recorded";
  }

  private unreachableNow(a: string, b: string, nowMs: number): boolean {
    const until = this.unreachable.get(a)?.get(b);
    return until !== undefined && until > nowMs;
  }

  report(reporter: string, offender: string, reporterAddress: string): ReportOutcome {
    // A banned peer's word counts for nothing: it would otherwise spend its address on an honest peer.
    if (this.bannedIds.has(reporter)) return "reporter_banned";
    if (this.avoid.get(reporter)?.has(offender)) return "duplicate";
    if ((this.reportsBy.get(reporter) ?? 0) >= MAX_REPORTS_PER_REPORTER) return "reporter_full";
    if (this.pairs >= MAX_REPORTED_PAIRS) return "swarm_full";
    this.pairs++;
    this.reportsBy.set(reporter, (this.reportsBy.get(reporter) ?? 0) + 1);
    this.link(reporter, offender);
    this.link(offender, reporter);
    if (this.bannedIds.has(offender)) return "recorded";
    const addresses = this.addressesAgainst.get(offender) ?? new Set<string>();
    addresses.add(reporterAddress);
    if (addresses.size < BAN_AFTER_ADDRESSES) {
      this.addressesAgainst.set(offender, addresses);
      return "recorded";
    }
    this.addressesAgainst.delete(offender);
    this.bannedIds.add(offender);
    return "banned";
  }

  private link(a: string, b: string): void {
    const set = this.avoid.get(a);
    if (set) set.add(b);
    else this.avoid.set(a, new Set([b]));
  }
}
