// The origin's and tracker's own counters, read from their /metrics.
import { parsePromText, sumSeries } from "@peercast/origin/prom-text";

export class Scrape {
  constructor(
    readonly values: Map<string, number>,
    readonly at: number,
  ) {}

  sum(name: string, labels: Record<string, string> = {}): number {
    return sumSeries(this.values, name, labels);
  }

  /** Label values of `label` across the series of `name`. */
  labelValues(name: string, label: string): string[] {
    const out = new Set<string>();
    for (const key of this.values.keys()) {
      if (!key.startsWith(`${name}{`)) continue;
      const m = new RegExp(`${label}="([^"]*)"`).exec(key);
      if (m) out.add(m[1]!);
    }
    return [...out];
  }
}

/** One scrape; an empty one when the service does not answer (a tracker restarting). */
export async function scrape(url: string | undefined): Promise<Scrape> {
  const values = new Map<string, number>();
  if (url) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) parsePromText(await res.text(), values);
    } catch {
      /* down for now */
    }
  }
  return new Scrape(values, Date.now());
}

/** Adds up a counter's increases across samples, through restarts (a counter that went down began again). */
export class CounterSum {
  private last: number | undefined;
  total = 0;

  add(value: number | undefined): void {
    if (value === undefined) return;
    if (this.last !== undefined) this.total += value >= this.last ? value - this.last : value;
    this.last = value;
  }
}
