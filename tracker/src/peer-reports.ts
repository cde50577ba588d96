// One swarm's reports of peers that sent bytes failing the hash check (players send them over
// their tracker socket, `peercast_reject`). A reported pair is never introduced to each other
// again; an offender reported from enough client addresses (so that one viewer, or one NAT's
// worth of them, cannot ban honest peers alone) is introduced to nobody. Bounded per swarm,
// and dropped with the swarm.

/** Reported pairs one swarm remembers; past it new reports are refused (kept bans stay). */
export const MAX_REPORTED_PAIRS = 4096;
/** Peers one reporter may report in one swarm: a viewer meets a few hostile peers, not dozens. */
export const MAX_REPORTS_PER_REPORTER = 16;
/** Distinct reporter addresses (client address keys) that ban an offender. */
export const BAN_AFTER_ADDRESSES = 2;

export type ReportOutcome = "recorded" | "banned" | "duplicate" | "reporter_banned" | "reporter_full" | "swarm_full";

export class PeerReports {
  /** peer id -> the peers it must not be introduced to (both directions of each pair). */
  private readonly avoid = new Map<string, Set<string>>();
  private readonly reportsBy = new Map<string, number>();
  /** offender -> the client address keys that reported it, until it is banned. */
  private readonly addressesAgainst = new Map<string, Set<string>>();
  private readonly bannedIds = new Set<string>();
  private pairs = 0;

  get bans(): number {
    return this.bannedIds.size;
  }

  banned(peerId: string): boolean {
    return this.bannedIds.has(peerId);
  }

  /** Whether these two peers must not be introduced to each other. */
  avoids(a: string, b: string): boolean {
    return this.bannedIds.has(a) || this.bannedIds.has(b) || (this.avoid.get(a)?.has(b) ?? false);
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
