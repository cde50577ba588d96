// One latency window: a mode set in the origin's keys file, N viewers opened after it
// (players read the mode when they load), then block-code latency, share from peers, origin
// copies per segment and stalls over a steady window.
import fs from "node:fs";
import type { Browser } from "playwright-core";
import { getJson, waitFor } from "@peercast/origin/testing";
import type { LatencyMode, StatsBeacon, StreamDetailResponse } from "@peercast/origin/wire";
import type { System } from "../test/support/system.js";
import { metricSum, openViewer, type Viewer } from "../test/support/viewers.js";
import { drainBlockCodeSamples, startBlockCodeSampler, type LatencySample } from "./block-code.js";
import { summarize, round, type Summary } from "./figures.js";
import type { HostLoad, PhaseLoad } from "./host-load.js";
import type { Transport } from "./startup-phase.js";

const STREAM = "main";
/** The keys file as far as the bench touches it (the origin validates the rest). */
interface KeysFileContent {
  keys: unknown[];
  streams?: Record<string, Record<string, unknown>>;
}

const P2P_OFF = `try { localStorage.setItem("peercast.p2p", "off") } catch {}`;

export interface LatencyWindowResult {
  mode: LatencyMode;
  transport: Transport;
  viewers: number;
  windowSec: number;
  /** Block-code glass-to-glass latency, every valid sample of every viewer. */
  latencyMs: Summary;
  /** Median of each viewer's own samples. */
  perViewerMedianMs: (number | null)[];
  /** The players' own figure (wall clock minus PROGRAM-DATE-TIME), read every 5 s. */
  playerReportedLatencyMs: Summary;
  /** valid includes `frozen`: samples taken during a stall, from the frame left on screen. */
  samples: { valid: number; frozen: number; invalid: Record<string, number> };
  shareFromPeers: number;
  originCopiesPerSegment: number | null;
  segmentFetches: number;
  segmentsProduced: number;
  stalls: number;
  stallMs: number;
  /** Peers of each viewer at the end. */
  peers: number[];
  pageErrors: string[];
  cpu: PhaseLoad;
}

/** Sets the stream's latency mode in the keys file and waits until the origin serves it. */
export async function setLatencyMode(system: System, mode: LatencyMode): Promise<void> {
  const file = system.origin.keysFile;
  const content = JSON.parse(fs.readFileSync(file, "utf8")) as KeysFileContent;
  content.streams = { ...content.streams, [STREAM]: { ...content.streams?.[STREAM], latency: mode } };
  // Atomic, as an operator's editor does: the origin never reads a half-written file.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(content));
  fs.renameSync(`${file}.tmp`, file);
  await waitFor(async () => (await getJson<StreamDetailResponse>(`${system.origin.http}/api/streams/${STREAM}`)).player.latency === mode, 10_000, () => `(mode ${mode} not applied)`);
}

export interface LatencyWindowOptions {
  browser: Browser;
  system: System;
  mode: LatencyMode;
  transport: Transport;
  viewers: number;
  windowSec: number;
  sampleMs: number;
  load: HostLoad;
  /** How many decoded samples to print (to see the decoding works). */
  showSamples: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (list: StatsBeacon[], key: "httpBytes" | "p2pBytes" | "stalls" | "stallMs") => list.reduce((n, s) => n + s[key], 0);

export async function measureLatencyWindow(o: LatencyWindowOptions): Promise<LatencyWindowResult> {
  const { system, log } = o;
  const http = system.origin.http;
  await setLatencyMode(system, o.mode);
  const viewers: Viewer[] = [];
  try {
    for (let i = 0; i < o.viewers; i++) {
      if (i > 0) await sleep(1000); // each joins at its own moment
      viewers.push(await openViewer(o.browser, `${http}/watch/${STREAM}`, o.transport === "http" ? { initScript: P2P_OFF } : {}));
    }
    await Promise.all(viewers.map((v) => v.playsOn(4, 40_000)));
    const first = await Promise.all(viewers.map((v) => v.stats()));
    for (const b of first) {
      if (b.latencyMode !== o.mode) throw new Error(`a viewer plays in ${b.latencyMode}, expected ${o.mode}`);
      if (b.p2p.download !== (o.transport === "p2p")) throw new Error(`a viewer has p2p ${JSON.stringify(b.p2p)}, expected ${o.transport}`);
    }
    if (o.transport === "p2p") {
      // A window without peers would measure HTTP: wait (a little) until every viewer has one.
      await waitFor(async () => (await Promise.all(viewers.map((v) => v.stats()))).every((b) => b.peers > 0), 15_000).catch(() =>
        log("  warning: not every viewer has a peer after 15 s; measuring anyway"),
      );
    }

    // The steady window.
    await Promise.all(viewers.map((v) => startBlockCodeSampler(v.page, o.sampleMs)));
    const fetches = () => metricSum(http, "peercast_origin_segment_fetches_total", { stream: STREAM });
    const produced = () => metricSum(http, "peercast_segments_produced_total", { stream: STREAM });
    const endLoad = o.load.phase();
    const [f0, p0, s0] = await Promise.all([fetches(), produced(), Promise.all(viewers.map((v) => v.stats()))]);
    const started = Date.now();
    const perViewer: LatencySample[][] = viewers.map(() => []);
    const invalid: Record<string, number> = {};
    const reported: number[] = [];
    let shown = 0;
    let lastProgress = started;
    const drain = async () => {
      const drained = await Promise.all(viewers.map((v) => drainBlockCodeSamples(v.page)));
      drained.forEach((d, i) => {
        perViewer[i]!.push(...d.valid);
        for (const [why, n] of Object.entries(d.invalid)) invalid[why] = (invalid[why] ?? 0) + n;
        for (const s of d.valid) {
          if (shown >= o.showSamples) break;
          shown++;
          log(`  sample viewer ${i}: code 0x${s.value.toString(16).padStart(8, "0")} = frame drawn ${new Date(s.capturedMs).toISOString()}, shown ${new Date(s.atMs).toISOString()} -> ${s.latencyMs} ms (contrast ${s.contrast}/128)`);
        }
      });
    };
    while (Date.now() - started < o.windowSec * 1000) {
      await sleep(Math.min(5000, o.windowSec * 1000 - (Date.now() - started)));
      await drain();
      for (const b of await Promise.all(viewers.map((v) => v.stats()))) if (b.latencyMs !== undefined) reported.push(b.latencyMs);
      if (Date.now() - lastProgress >= 15_000) {
        lastProgress = Date.now();
        const all = summarize(perViewer.flat().map((s) => s.latencyMs));
        log(`  ${Math.round((Date.now() - started) / 1000)} s: ${all.n} samples, median ${all.median} ms, p95 ${all.p95} ms`);
      }
    }
    const [f1, p1, s1] = await Promise.all([fetches(), produced(), Promise.all(viewers.map((v) => v.stats()))]);
    const cpu = endLoad();
    await drain();

    const p2p = sum(s1, "p2pBytes") - sum(s0, "p2pBytes");
    const httpBytes = sum(s1, "httpBytes") - sum(s0, "httpBytes");
    const all = perViewer.flat().map((s) => s.latencyMs);
    return {
      mode: o.mode,
      transport: o.transport,
      viewers: o.viewers,
      windowSec: round((Date.now() - started) / 1000),
      latencyMs: summarize(all),
      perViewerMedianMs: perViewer.map((list) => summarize(list.map((s) => s.latencyMs)).median),
      playerReportedLatencyMs: summarize(reported),
      samples: { valid: all.length, frozen: perViewer.flat().filter((s) => s.frozen).length, invalid },
      shareFromPeers: p2p + httpBytes > 0 ? round(p2p / (p2p + httpBytes), 3) : 0,
      originCopiesPerSegment: p1 > p0 ? round((f1 - f0) / (p1 - p0), 2) : null,
      segmentFetches: f1 - f0,
      segmentsProduced: p1 - p0,
      stalls: sum(s1, "stalls") - sum(s0, "stalls"),
      stallMs: sum(s1, "stallMs") - sum(s0, "stallMs"),
      peers: s1.map((b) => b.peers),
      pageErrors: viewers.flatMap((v) => v.errors),
      cpu,
    };
  } finally {
    await Promise.all(viewers.map((v) => v.close().catch(() => {})));
  }
}
