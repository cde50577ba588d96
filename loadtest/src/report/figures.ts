// Order statistics for the load test's figures.

export interface Summary {
  n: number;
  median: number | null;
  /** Nearest-rank 95th percentile: with 20 values, the 19th smallest. */
  p95: number | null;
  min: number | null;
  max: number | null;
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, median: null, p95: null, min: null, max: null };
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const p95 = s[Math.max(0, Math.ceil(0.95 * s.length) - 1)]!;
  return { n: s.length, median: round(median), p95: round(p95), min: round(s[0]!), max: round(s.at(-1)!) };
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null, b: number | null, digits = 2): number | null {
  return a === null || b === null || b === 0 ? null : round(a / b, digits);
}
