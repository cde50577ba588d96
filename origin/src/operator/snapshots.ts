// The dashboard's view of the metrics: samples of the very registries /metrics exposes (the
// origin's own, and the tracker's /metrics when configured), every few seconds for an hour.
// Rates and charts are differences between samples: no second aggregation path.
import type { Registry } from "prom-client";
import { parsePromText } from "./prom-text.js";

export interface Sample {
  at: number;
  /** `name{label="value",...}` (labels sorted) -> value. */
  values: Map<string, number>;
}

const HOUR_MS = 3_600_000;
// An hour of samples is kept: only Peercast's own series, not the runtime's (process, nodejs).
const DASHBOARD_SERIES = (name: string) => name.startsWith("peercast_") && !/_(process|nodejs)_/.test(name);

export class MetricSamples {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly o: { intervalMs: number; trackerMetricsUrl: string | undefined; fetchTimeoutMs?: number },
  ) {}

  start(): void {
    void this.take();
    this.timer = setInterval(() => void this.take(), this.o.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  latest(): Sample | undefined {
    return this.samples.at(-1);
  }

  /** The newest sample at least `ms` older than the latest (or the oldest one there is). */
  before(ms: number): Sample | undefined {
    const latest = this.latest();
    if (!latest) return undefined;
    for (let i = this.samples.length - 1; i >= 0; i--) if (latest.at - this.samples[i]!.at >= ms) return this.samples[i];
    return this.samples[0];
  }

  all(): readonly Sample[] {
    return this.samples;
  }

  async take(): Promise<void> {
    const values = new Map<string, number>();
    parsePromText(await this.registry.metrics(), values, DASHBOARD_SERIES);
    if (this.o.trackerMetricsUrl) {
      try {
        const res = await fetch(this.o.trackerMetricsUrl, { signal: AbortSignal.timeout(this.o.fetchTimeoutMs ?? 2000) });
        if (res.ok) parsePromText(await res.text(), values, DASHBOARD_SERIES);
      } catch {
        /* tracker away: its figures are missing from this sample */
      }
    }
    const at = Date.now();
    this.samples.push({ at, values });
    while (this.samples.length > 1 && at - this.samples[0]!.at > HOUR_MS) this.samples.shift();
  }
}
