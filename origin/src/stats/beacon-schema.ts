// Validation of POST /api/stats bodies: anything on the open internet may send one.
import { z } from "zod";
import type { LatencyMode, P2POffReason, StatsBeacon } from "../wire/index.js";

/** An hour: a startup or a live latency above it is a broken clock, not a measurement. */
const MAX_DURATION_MS = 3_600_000;

const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const duration = z.number().min(0).max(MAX_DURATION_MS);
const pattern = (re: RegExp, what: string) => z.string().regex(re, { error: `expected ${what}` });

const P2P_OFF_REASONS = [
  "operator",
  "viewer",
  "no-webrtc",
  "no-mse",
  "insecure-context",
  "save-data",
  "cellular",
  "upload-cap",
] as const satisfies readonly P2POffReason[];
const LATENCY_MODES = ["balanced", "low"] as const satisfies readonly LatencyMode[];

// Unknown keys are dropped, not refused: a newer player may report more than this origin reads.
export const StatsBeaconSchema = z.object({
  v: z.literal(1),
  viewerId: pattern(/^[A-Za-z0-9_-]{8,64}$/, "8-64 of A-Z a-z 0-9 _ -"),
  stream: pattern(/^[a-z0-9_-]{1,64}$/, "1-64 of a-z 0-9 _ -"),
  sessionId: pattern(/^[A-Za-z0-9]{1,32}$/, "1-32 of A-Z a-z 0-9").optional(),
  httpBytes: counter,
  p2pBytes: counter,
  uploadedBytes: counter,
  rejectedSegments: counter,
  stalls: counter,
  stallMs: counter,
  playingMs: counter,
  peers: z.number().int().min(0).max(10_000),
  peersMet: z.number().int().min(0).max(1_000_000).optional(),
  rendition: pattern(/^[A-Za-z0-9_-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ -").optional(),
  startupMs: duration.optional(),
  latencyMs: duration.optional(),
  latencyMode: z.enum(LATENCY_MODES),
  p2p: z.object({ download: z.boolean(), upload: z.boolean(), reason: z.enum(P2P_OFF_REASONS).optional() }),
  final: z.boolean().optional(),
});

// Compile-time: the schema and the wire type have the same fields, optional the same way, with
// the same types (P2POffReason and LatencyMode members included). Editing one fails the build
// until the other follows.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Parsed = z.output<typeof StatsBeaconSchema>;
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
const inSync: [
  Same<Parsed, StatsBeacon>,
  Same<keyof Parsed, keyof StatsBeacon>,
  Same<OptionalKeys<Parsed>, OptionalKeys<StatsBeacon>>,
  Same<keyof Parsed["p2p"], keyof StatsBeacon["p2p"]>,
  Same<OptionalKeys<Parsed["p2p"]>, OptionalKeys<StatsBeacon["p2p"]>>,
] = [true, true, true, true, true];
void inSync;

export type BeaconParse = { ok: true; beacon: StatsBeacon } | { ok: false; error: string };

/** A beacon, or one short `field: reason` line that never repeats the value it got. */
export function parseBeacon(json: unknown): BeaconParse {
  const r = StatsBeaconSchema.safeParse(json);
  if (r.success) return { ok: true, beacon: r.data };
  const issue = r.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
  const missing = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], json) === undefined;
  return { ok: false, error: `${field}: ${missing ? "required" : reason(issue)}` };
}

function reason(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      const received = (issue as { received?: unknown }).received;
      if (received === "Infinity" || received === "NaN") return "expected a finite number";
      if (issue.expected === "int") return "expected an integer";
      return `expected ${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    }
    case "too_small":
      return issue.origin === "string" ? `expected at least ${issue.minimum} characters` : `must be >= ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string" ? `expected at most ${issue.maximum} characters` : `must be <= ${issue.maximum}`;
    case "invalid_value":
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
    case "invalid_format":
      return issue.message; // the schema's own text (see `pattern`)
    default:
      return "invalid";
  }
}
