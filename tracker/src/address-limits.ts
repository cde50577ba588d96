// Connections per client address key (an IPv4 address or an IPv6 /64, see rateKey): how many are
// open (a standing cap), how fast new ones come (the origin's ClientLimiter token bucket), and
// how many are open in all (what one tracker process is sized for). A campus or carrier-grade NAT
// puts thousands of viewers behind one address, so the per-address cap is set high and the rate
// does the work of stopping connection floods.
import { ClientLimiter } from "@peercast/origin/service";

export interface AddressLimitsOptions {
  /** Open connections in all at most. */
  maxTotal: number;
  /** Open connections per address at most. */
  maxOpen: number;
  /** New connections per address per minute, sustained. */
  newPerMin: number;
  /** New connections an address may open at once above that rate. */
  newBurst: number;
  /** Rate buckets kept at most; the oldest goes first (it only costs that address a fresh bucket). */
  maxBuckets?: number;
  now?: () => number;
}

export type Admission = "ok" | "too_many_connections" | "connections_per_ip" | "connections_rate";

export class AddressLimits {
  /** Open connections per address; an address leaves the map at 0. */
  private readonly open = new Map<string, number>();
  private total = 0;
  private readonly rate: ClientLimiter;

  constructor(private readonly o: AddressLimitsOptions) {
    this.rate = new ClientLimiter({ ratePerMin: o.newPerMin, burst: o.newBurst, maxClients: o.maxBuckets ?? 100_000, now: o.now });
  }

  /**
   * Whether `address` (a rateKey) may open one more connection; "ok" takes a token from its
   * bucket, a refusal at a cap takes none. The caller reports the connection with opened() once
   * it is up, closed() when it ends.
   */
  admit(address: string): Admission {
    if (this.total >= this.o.maxTotal) return "too_many_connections";
    if (this.openOf(address) >= this.o.maxOpen) return "connections_per_ip";
    return this.rate.take(address) ? "ok" : "connections_rate";
  }

  opened(address: string): void {
    this.open.set(address, this.openOf(address) + 1);
    this.total++;
  }

  closed(address: string): void {
    const n = this.openOf(address);
    if (n === 0) return;
    if (n === 1) this.open.delete(address);
    else this.open.set(address, n - 1);
    this.total--;
  }

  /** Open connections of one address. */
  openOf(address: string): number {
    return this.open.get(address) ?? 0;
  }

  /** Open connections in all. */
  get openTotal(): number {
    return this.total;
  }

  /** Forgets rate buckets that have refilled (a new one would be the same). */
  sweep(): void {
    this.rate.sweep();
  }

  /** What the limits hold: addresses with open connections, and rate buckets still refilling. */
  get size(): { addresses: number; buckets: number } {
    return { addresses: this.open.size, buckets: this.rate.size };
  }
}
