// Real viewers: Chromium pages of the player, each in its own browser context (own storage,
// own peer id), with the microphone permission WebRTC needs inside a namespace of only `lo`.
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { StatsBeacon } from "@peercast/origin/wire";
import { waitFor } from "@peercast/origin/testing";

export interface Viewer {
  page: Page;
  context: BrowserContext;
  /** Uncaught page errors. */
  errors: string[];
  /** What the page counted (its beacon, built on demand). */
  stats(): Promise<StatsBeacon>;
  currentTime(): Promise<number>;
  /** The player's state attribute: offline, live, ended, not-found... */
  state(): Promise<string | undefined>;
  /** Resolves once the video has played past `seconds` of media time from now. */
  playsOn(seconds: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function openViewer(browser: Browser, url: string, o: { initScript?: string } = {}): Promise<Viewer> {
  const context = await browser.newContext({ permissions: ["microphone"] });
  if (o.initScript) await context.addInitScript(o.initScript);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  const currentTime = () => page.evaluate(() => document.querySelector("video")?.currentTime ?? 0);
  return {
    page,
    context,
    errors,
    stats: () => page.evaluate(() => (window as unknown as { peercast: { stats: { beacon(): StatsBeacon } } }).peercast.stats.beacon()),
    currentTime,
    state: () => page.evaluate(() => document.getElementById("peercast")?.dataset.state),
    playsOn: async (seconds, timeoutMs = 40_000) => {
      const from = await currentTime();
      await waitFor(
        async () => (await currentTime()) > from + seconds,
        timeoutMs,
        () => `(currentTime stuck near ${from})`,
      );
    },
    close: () => context.close(),
  };
}

/** Reads one sample of a service's /metrics (at its metrics listener), summed over the series matching `labels`. */
export async function metricSum(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
