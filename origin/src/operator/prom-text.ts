// Prometheus text exposition (what prom-client writes) as a map of series: read by the
// dashboard's sampler and by the load test, which scrapes the origin's and tracker's /metrics.

export function seriesKey(name: string, labels: Record<string, string | number>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

/** Parses Prometheus text exposition (what prom-client writes) into series keys. */
export function parsePromText(text: string, into: Map<string, number>, keep: (name: string) => boolean = () => true): void {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !keep(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const value = Number(m[3]);
    if (Number.isFinite(value)) into.set(seriesKey(m[1]!, labels), value);
  }
}

/** Sum of the series of `name` whose labels include all of `labels`. */
export function sumSeries(values: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, value] of values) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => key.includes(w))) sum += value;
  }
  return sum;
}
