// Proves the emulated links: round trip, loss and rate between two sides (scripts/net-probe.py,
// one process in each namespace), set against what the profiles say, and the checks on them.
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type { AccessProfile, NatKind } from "./profiles.js";
import { PYTHON, SCRIPTS_DIR } from "./switch-process.js";

/** One side of a path: a viewer or light peer, or the server side. */
export interface Endpoint {
  /** The namespace its processes run in; null: the load test's own (the server side). */
  netns: string | null;
  /** The address to bind (behind a NAT: the private one). */
  address: string;
  /** The address others reach and the emulator shapes (without a NAT: `address`). */
  publicAddress: string;
  /** Null for the server side, which is not shaped. */
  profile: AccessProfile | null;
  nat: NatKind;
}

export interface ProbeOptions {
  /** Pings for the round trip and loss (default 50, 20 ms apart: jitter cannot bunch them). */
  pings?: number;
  pingIntervalMs?: number;
  /** Measure the rate each way (default true): a UDP train of this many seconds (default 1). */
  rate?: boolean;
  seconds?: number;
  /** Trains run this much faster than the expected rate, so the link's queue stays full (default 1.25). */
  overdrive?: number;
}

/** Expected figures for a path from its two profiles. */
export interface PathExpectation {
  rttMs: number;
  /** a -> b and b -> a, Ethernet frame bytes; null where neither side limits it (server to server). */
  upKbps: number | null;
  downKbps: number | null;
  lossUpPct: number;
  lossDownPct: number;
}

export interface ProbeResult {
  /** Public addresses, "198.51.100.10 (cable)" style labels for reports. */
  from: string;
  to: string;
  expected: PathExpectation;
  pings: { sent: number; atServer: number; replies: number };
  rttMs: { median: number | null; min: number | null; p95: number | null };
  /** a -> b, measured at b; b -> a, measured at a (percent of packets). */
  lossUpPct: number | null;
  lossDownPct: number | null;
  /** Rates measured by the receiver (frame bytes, like the links' rates); null if not measured. */
  upKbps: number | null;
  downKbps: number | null;
}

export function endpointLabel(e: Endpoint): string {
  return e.profile ? `${e.publicAddress} (${e.profile.name}${e.nat === "none" ? "" : `, ${e.nat} NAT`})` : `${e.publicAddress} (server)`;
}

export function expectPath(a: Endpoint, b: Endpoint): PathExpectation {
  const delay = (e: Endpoint) => e.profile?.delayMs ?? 0;
  const loss = (e: Endpoint) => (e.profile?.lossPct ?? 0) / 100;
  const rate = (x: number | undefined, y: number | undefined) => {
    const r = Math.min(x ?? Infinity, y ?? Infinity);
    return Number.isFinite(r) ? r * 1000 : null;
  };
  const bothLoss = 100 * (1 - (1 - loss(a)) * (1 - loss(b)));
  return {
    rttMs: 2 * (delay(a) + delay(b)),
    upKbps: rate(a.profile?.upMbps, b.profile?.downMbps),
    downKbps: rate(b.profile?.upMbps, a.profile?.downMbps),
    lossUpPct: bothLoss,
    lossDownPct: bothLoss,
  };
}

function spawnIn(netns: string | null, args: string[]) {
  const argv = [path.join(SCRIPTS_DIR, "net-probe.py"), ...args];
  return netns
    ? spawn("ip", ["netns", "exec", netns, PYTHON, ...argv], { stdio: ["pipe", "pipe", "pipe"] })
    : spawn(PYTHON, argv, { stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * Measures the path from `a` to `b`: the client runs in a's namespace, the server in b's.
 * `b` must be reachable from outside (not behind a NAT); `a` may be behind one.
 */
export async function probe(a: Endpoint, b: Endpoint, options: ProbeOptions = {}): Promise<ProbeResult> {
  if (b.nat !== "none") throw new Error(`probe: ${endpointLabel(b)} is behind a NAT; probe from it instead`);
  const expected = expectPath(a, b);
  const overdrive = options.overdrive ?? 1.25;
  const rate = options.rate ?? true;
  const server = spawnIn(b.netns, ["serve", "--bind", b.address]);
  let serverErr = "";
  server.stderr.on("data", (c: Buffer) => (serverErr += c.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: server.stdout }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
      server.on("exit", (code) => reject(new Error(`probe server in ${b.netns ?? "the server side"} exited (${code}): ${serverErr.trim()}`)));
    });
    const args = ["client", "--bind", a.address, "--server", b.publicAddress, "--port", String(port)];
    args.push("--pings", String(options.pings ?? 50), "--ping-interval-ms", String(options.pingIntervalMs ?? 20), "--seconds", String(options.seconds ?? 1));
    if (rate && expected.upKbps) args.push("--up-kbps", String(expected.upKbps * overdrive));
    if (rate && expected.downKbps) args.push("--down-kbps", String(expected.downKbps * overdrive));
    const client = spawnIn(a.netns, args);
    client.stdin.end();
    let out = "";
    let err = "";
    client.stdout.on("data", (c: Buffer) => (out += c.toString()));
    client.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => client.on("exit", resolve));
    if (code !== 0) throw new Error(`probe ${endpointLabel(a)} -> ${endpointLabel(b)} failed (${code}): ${err.trim()}`);
    const r = JSON.parse(out) as {
      pings: { sent: number; atServer: number; replies: number; rttMedianMs: number | null; rttMinMs: number | null; rttP95Ms: number | null };
      up: { kbps: number | null } | null;
      down: { kbps: number | null } | null;
    };
    const pct = (part: number, whole: number) => (whole > 0 ? round(100 * (1 - part / whole)) : null);
    return {
      from: endpointLabel(a),
      to: endpointLabel(b),
      expected,
      pings: { sent: r.pings.sent, atServer: r.pings.atServer, replies: r.pings.replies },
      rttMs: { median: r.pings.rttMedianMs, min: r.pings.rttMinMs, p95: r.pings.rttP95Ms },
      lossUpPct: pct(r.pings.atServer, r.pings.sent),
      lossDownPct: pct(r.pings.replies, r.pings.atServer),
      upKbps: r.up?.kbps ?? null,
      downKbps: r.down?.kbps ?? null,
    };
  } finally {
    server.stdin.end();
    server.kill();
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export interface ProbeTolerance {
  /** Rates within this share of the expected (default 0.15). */
  rate?: number;
  /** Round trips within this share of the expected, or rttMs, whichever is larger (defaults 0.15, 2). */
  rtt?: number;
  rttMs?: number;
}

/** What in a probe is off its profiles; empty when the path is what they say. */
export function checkProbe(p: ProbeResult, tolerance: ProbeTolerance = {}): string[] {
  const problems: string[] = [];
  const path = `${p.from} -> ${p.to}`;
  const rateTol = tolerance.rate ?? 0.15;
  const { median } = p.rttMs;
  const rttTol = Math.max((tolerance.rtt ?? 0.15) * p.expected.rttMs, tolerance.rttMs ?? 2);
  if (median === null) problems.push(`${path}: no ping came back (${p.pings.sent} sent)`);
  else if (Math.abs(median - p.expected.rttMs) > rttTol) {
    problems.push(`${path}: round trip ${median.toFixed(1)} ms, expected ${p.expected.rttMs.toFixed(1)} ± ${rttTol.toFixed(1)} ms`);
  }
  for (const [way, measured, expected] of [
    ["up", p.upKbps, p.expected.upKbps],
    ["down", p.downKbps, p.expected.downKbps],
  ] as const) {
    if (expected === null || (measured === null && p.upKbps === null && p.downKbps === null)) continue; // rates not measured
    if (measured === null) problems.push(`${path}: no ${way} rate measured (expected ${(expected / 1000).toFixed(1)} Mbit/s)`);
    else if (Math.abs(measured - expected) > rateTol * expected) {
      problems.push(`${path}: ${way} ${(measured / 1000).toFixed(2)} Mbit/s, expected ${(expected / 1000).toFixed(2)} Mbit/s ± ${Math.round(rateTol * 100)} %`);
    }
  }
  // Loss: a binomial count; off when beyond 4 standard deviations (of at least 0.5 %) and a packet.
  for (const [way, measured, expected, n] of [
    ["up", p.lossUpPct, p.expected.lossUpPct, p.pings.sent],
    ["down", p.lossDownPct, p.expected.lossDownPct, p.pings.atServer],
  ] as const) {
    if (measured === null || n === 0) continue;
    const q = Math.max(expected, 0.5) / 100;
    const allowed = 100 * (4 * Math.sqrt((q * (1 - q)) / n) + 1 / n);
    if (Math.abs(measured - expected) > allowed) {
      problems.push(`${path}: ${way} loss ${measured.toFixed(1)} % of ${n} pings, expected ${expected.toFixed(1)} ± ${allowed.toFixed(1)} %`);
    }
  }
  return problems;
}
