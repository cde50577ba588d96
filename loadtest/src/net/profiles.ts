// Viewers' access links for `--net`: the profiles, their numbers, and which viewer gets which.
// The numbers are what the emulator's links are set to (net-switch.py); every run's probes
// check them (probe.ts).

/** One viewer's access link. The one-way delay is on the uplink and on the downlink alike. */
export interface AccessProfile {
  name: string;
  downMbps: number;
  upMbps: number;
  /** One way, viewer to the server side (and the server side back to the viewer). */
  delayMs: number;
  /** Each frame's delay is drawn in delayMs ± jitterMs (uniform), never reordering frames. */
  jitterMs: number;
  /** Random loss on the uplink and on the downlink, each. */
  lossPct: number;
}

export const ACCESS_PROFILES = {
  fiber: { name: "fiber", downMbps: 200, upMbps: 50, delayMs: 5, jitterMs: 0, lossPct: 0 },
  cable: { name: "cable", downMbps: 100, upMbps: 10, delayMs: 15, jitterMs: 0, lossPct: 0 },
  dsl: { name: "dsl", downMbps: 16, upMbps: 1, delayMs: 25, jitterMs: 0, lossPct: 0 },
  mobile: { name: "mobile", downMbps: 30, upMbps: 5, delayMs: 40, jitterMs: 10, lossPct: 1 },
} as const satisfies Record<string, AccessProfile>;
export type AccessProfileName = keyof typeof ACCESS_PROFILES;

/** `--net` values: `lan` is today's loopback (no emulator at all); `mix*` assign per viewer. */
export const NET_PROFILES = ["lan", "fiber", "cable", "dsl", "mobile", "mix", "mix-nat"] as const;
export type NetProfileName = (typeof NET_PROFILES)[number];

/** `mix`: of every 10 viewers (by index), this many get each profile. */
export const MIX_SHARES: readonly (readonly [AccessProfileName, number])[] = [
  ["fiber", 3],
  ["cable", 4],
  ["dsl", 2],
  ["mobile", 1],
];
/** `mix-nat`: of every 4 viewers (by index), one is behind a symmetric NAT, the rest a cone NAT. */
export const SYMMETRIC_ONE_IN = 4;

/**
 * cone: Linux MASQUERADE, which keeps the source port where it can (STUN hole punching works);
 * symmetric: MASQUERADE --random-fully, a new port per destination (two cannot reach each other).
 */
export type NatKind = "none" | "cone" | "symmetric";

export interface ViewerAccess {
  profile: AccessProfile;
  nat: NatKind;
}

/** Parses a `--net` list such as "lan,cable,mix-nat" (duplicates dropped); throws naming the bad item. */
export function parseNetProfiles(value: string): NetProfileName[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error(`--net: empty: give one or more of ${NET_PROFILES.join(", ")}`);
  for (const item of items) {
    if (!(NET_PROFILES as readonly string[]).includes(item)) throw new Error(`--net: "${item}" is not one of ${NET_PROFILES.join(", ")}`);
  }
  return [...new Set(items)] as NetProfileName[];
}

/**
 * The link viewer number `index` (0, 1, ...) gets under `net`, or null for `lan` (no emulation).
 * Deterministic in (net, index, seed). `mix` deals each block of 10 viewers exactly the shares
 * above, in an order shuffled per block by the seed, so any 10 consecutive viewers from a block
 * boundary hold 3 fiber, 4 cable, 2 dsl and 1 mobile; `mix-nat` does the same and puts one of
 * each block of 4 behind a symmetric NAT.
 */
export function viewerAccess(net: NetProfileName, index: number, seed: number): ViewerAccess | null {
  if (!Number.isInteger(index) || index < 0) throw new Error(`viewer index must be a non-negative integer, not ${index}`);
  if (net === "lan") return null;
  if (net !== "mix" && net !== "mix-nat") return { profile: ACCESS_PROFILES[net], nat: "none" };
  const deck = MIX_SHARES.flatMap(([name, n]) => Array<AccessProfileName>(n).fill(name));
  const block = Math.floor(index / deck.length);
  const name = shuffled(deck, rng(seed, 1, block))[index % deck.length]!;
  let nat: NatKind = "none";
  if (net === "mix-nat") {
    const natBlock = Math.floor(index / SYMMETRIC_ONE_IN);
    const symmetricAt = Math.floor(rng(seed, 2, natBlock)() * SYMMETRIC_ONE_IN);
    nat = index % SYMMETRIC_ONE_IN === symmetricAt ? "symmetric" : "cone";
  }
  return { profile: ACCESS_PROFILES[name], nat };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** mulberry32, seeded from (seed, stream, block): small, fast and the same on every machine. */
function rng(seed: number, stream: number, block: number): () => number {
  let a = Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca6b) ^ Math.imul(block + 1, 0xc2b2ae35);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
