// Start-up time to first frame: each start is a fresh browser context (own cache, storage and
// peer id) loading the watch page, timed twice: by the player (its beacon's startupMs,
// navigation start to the first `playing`) and by us (page.goto called to the video's
// currentTime first moving).
import type { Browser, BrowserContext } from "playwright-core";
import type { StatsBeacon } from "@peercast/origin/wire";
import { stopPlayback } from "../audience.js";
import type { Transport } from "../peers/light-peer.js";

export interface StartResult {
  transport: Transport;
  ok: boolean;
  error?: string;
  /** The whole start, new context to context closed: what it costs the load test. */
  wallMs?: number;
  /** The player's figure (beacon startupMs): navigation start to the first `playing` event. */
  startupMs?: number;
  /** Ours: page.goto called to currentTime first advancing while not paused. */
  gotoToPlayingMs?: number;
  /** page.goto called to currentTime first > 0; hls.js's seek to the live point already sets it. */
  gotoToNonZeroMs?: number;
  /** page.goto called to the navigation start the player counts from. */
  gotoToNavStartMs?: number;
  /** From navigation start, read from the page's Resource Timing: where the time went. */
  milestones?: StartMilestones;
  /** At the first frame: peers connected, bytes from each source. */
  peers?: number;
  p2pBytes?: number;
  httpBytes?: number;
  /** The page's counters when it closed: what it cost the origin and its peers in all. */
  final?: StatsBeacon;
  /** Segment requests the page cut before their end (the origin sent what the page never counted). */
  abortedSegmentRequests?: number;
}

export interface StartMilestones {
  /** /api/streams/{stream} answered (the player learns the session). */
  apiDoneMs?: number;
  masterRequestedMs?: number;
  /** The first media playlist's last byte (hls.js picks the start point then). */
  mediaPlaylistDoneMs?: number;
  /** The first hash list's last byte (a segment is checked before hls.js gets it). */
  hashesDoneMs?: number;
  /** First media segment asked for over HTTP, and its last byte. */
  firstSegmentRequestedMs?: number;
  firstSegmentDoneMs?: number;
  /** The second media segment's last byte, over HTTP. */
  secondSegmentDoneMs?: number;
  /** The first frame (currentTime moving), from navigation start. */
  firstFrameMs?: number;
}

interface ProbeWindow {
  __nonZeroAt?: number;
  __firstTime?: number;
  __playingAt?: number;
  peercast?: { stats: { startupMs?: number; beacon(): StatsBeacon } };
}

/**
 * Context init script, run before the page's own scripts. It turns P2P off the way a viewer
 * does (the player reads this key; see viewerAllowsP2P in src/main.ts) and watches the
 * video's currentTime every 10 ms.
 */
function startProbe(p2pOff: boolean): void {
  if (p2pOff) {
    try {
      localStorage.setItem("peercast.p2p", "off");
    } catch {
      /* about:blank has no storage; the real page runs this again */
    }
  }
  const w = window as unknown as ProbeWindow;
  const timer = setInterval(() => {
    const video = document.querySelector("video");
    if (!video) return;
    const t = video.currentTime;
    if (w.__nonZeroAt === undefined) {
      if (t > 0) [w.__nonZeroAt, w.__firstTime] = [Date.now(), t];
    } else if (t > w.__firstTime! && !video.paused) {
      w.__playingAt = Date.now();
      clearInterval(timer);
    }
  }, 10);
}

export async function timeOneStart(browser: Browser, url: string, transport: Transport, timeoutMs = 20_000): Promise<StartResult> {
  const began = Date.now();
  const result = await startInNewContext(browser, url, transport, timeoutMs);
  return { ...result, wallMs: Date.now() - began };
}

async function startInNewContext(browser: Browser, url: string, transport: Transport, timeoutMs: number): Promise<StartResult> {
  const failed = (err: unknown): StartResult => ({ transport, ok: false, error: String(err).split("\n")[0] });
  let context: BrowserContext;
  try {
    context = await browser.newContext({ permissions: ["microphone"] });
  } catch (err) {
    return failed(err); // the browser went away (interrupted run)
  }
  let final: StatsBeacon | undefined;
  let aborted = () => 0;
  const result = await measureStart(
    context,
    url,
    transport,
    timeoutMs,
    (f) => (final = f),
    (count) => (aborted = count),
  ).catch(failed);
  await context.close().catch(() => {});
  return { ...result, ...(final && { final }), abortedSegmentRequests: aborted() };
}

async function measureStart(
  context: BrowserContext,
  url: string,
  transport: Transport,
  timeoutMs: number,
  onFinal: (b: StatsBeacon) => void,
  onAborted: (count: () => number) => void,
): Promise<StartResult> {
  await context.addInitScript(startProbe, transport === "http");
  const page = await context.newPage();
  try {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    let aborted = 0;
    page.on("requestfailed", (r) => /\.ts$/.test(new URL(r.url()).pathname) && aborted++);
    onAborted(() => aborted);
    const gotoAt = Date.now();
    await page.goto(url, { waitUntil: "commit" });
    await page.waitForFunction(
      () => {
        const w = window as unknown as ProbeWindow;
        return w.__playingAt !== undefined && w.peercast?.stats.startupMs !== undefined;
      },
      undefined,
      { timeout: timeoutMs, polling: 100 },
    );
    const r = await page.evaluate(() => {
      const w = window as unknown as ProbeWindow;
      const entries = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
      const first = (re: RegExp) => entries.find((e) => re.test(new URL(e.name).pathname));
      const ms = (x: number | undefined) => (x === undefined ? undefined : Math.round(x));
      const segments = entries.filter((e) => /\.ts$/.test(new URL(e.name).pathname));
      const milestones = {
        apiDoneMs: ms(first(/^\/api\/streams\//)?.responseEnd),
        masterRequestedMs: ms(first(/master\.m3u8$/)?.startTime),
        mediaPlaylistDoneMs: ms(entries.find((e) => /\.m3u8$/.test(e.name) && !/master\.m3u8$/.test(new URL(e.name).pathname))?.responseEnd),
        hashesDoneMs: ms(first(/hashes\.json$/)?.responseEnd),
        firstSegmentRequestedMs: ms(segments[0]?.startTime),
        firstSegmentDoneMs: ms(segments[0]?.responseEnd),
        secondSegmentDoneMs: ms(segments[1]?.responseEnd),
        firstFrameMs: ms(w.__playingAt! - performance.timeOrigin),
      };
      return { nonZeroAt: w.__nonZeroAt!, playingAt: w.__playingAt!, navStart: performance.timeOrigin, beacon: w.peercast!.stats.beacon(), milestones };
    });
    const b = r.beacon;
    if (b.p2p.download !== (transport === "p2p")) throw new Error(`expected ${transport}, the player has p2p ${JSON.stringify(b.p2p)}`);
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
    return {
      transport,
      ok: true,
      startupMs: b.startupMs,
      gotoToPlayingMs: r.playingAt - gotoAt,
      gotoToNonZeroMs: r.nonZeroAt - gotoAt,
      gotoToNavStartMs: Math.round(r.navStart - gotoAt),
      milestones: r.milestones,
      peers: b.peers,
      p2pBytes: b.p2pBytes,
      httpBytes: b.httpBytes,
    };
  } finally {
    // Let the first buffer fill finish (the origin counts what it sent), then stop before
    // reading, so that what this page sent to peers and what they received add up.
    await new Promise((r) => setTimeout(r, 1500));
    await page.evaluate(stopPlayback).catch(() => {});
    await new Promise((r) => setTimeout(r, 500)); // a response already arriving still counts
    const final = await page.evaluate(() => (window as unknown as ProbeWindow).peercast?.stats.beacon()).catch(() => undefined);
    if (final) onFinal(final);
  }
}
