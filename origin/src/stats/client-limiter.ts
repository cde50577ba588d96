// Per-client token buckets for the stats beacon: bounded memory whatever the number of clients.
import net from "node:net";

export interface ClientLimiterOptions {
  /** Sustained requests per minute per client. */
  ratePerMin: number;
  /** Requests a client may send at once above that rate. */
  burst: number;
  /** Buckets kept at most; the oldest goes first (it only costs that client a fresh bucket). */
  maxClients: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class ClientLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly o: ClientLimiterOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Takes one token from the client's bucket; false when it has none left. */
  take(client: string): boolean {
    const now = this.now();
    let b = this.buckets.get(client);
    if (b) {
      b.tokens = this.refilled(b, now);
      b.at = now;
    } else {
      if (this.buckets.size >= this.o.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.o.burst, at: now };
      this.buckets.set(client, b);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled: a new one would be the same. */
  sweep(): void {
    const now = this.now();
    for (const [client, b] of this.buckets) if (this.refilled(b, now) >= this.o.burst) this.buckets.delete(client);
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(b: Bucket, now: number): number {
    return Math.min(this.o.burst, b.tokens + ((now - b.at) / 60_000) * this.o.ratePerMin);
  }
}

/**
 * The client address a request is counted under: the socket's, or with `trustProxy` the rightmost
 * X-Forwarded-For entry (the one our proxy added; entries left of it are the client's to forge).
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trustProxy: boolean): string {
  const forwarded = trustProxy ? forwardedFor?.split(",").at(-1)?.trim() : undefined;
  return (forwarded && net.isIP(forwarded) ? forwarded : socketAddress) || "unknown";
}

/**
 * The bucket key of an address. IPv6 clients get a whole /64 each (one household or host), so
 * one is keyed by its /64: otherwise it could take a fresh bucket per request.
 */
export function rateKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const ip = address.split("%")[0]!; // zone id
  if (net.isIP(ip) !== 6) return address;
  const [head = "", tail] = ip.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const full = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${full
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
