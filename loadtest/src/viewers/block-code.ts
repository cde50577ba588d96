// Glass-to-glass latency from the test source's block code (BLOCK_CODE in the wire types):
// the page draws the <video> into a canvas, reads the centre pixel of every square and
// sends the raw 32-bit value back; Node turns it into epoch ms with the origin's own
// blockCodeToEpochMs. Everything runs on one machine, so page and encoder share a clock.
import type { Page } from "playwright-core";
import { BLOCK_CODE, blockCodeToEpochMs } from "@peercast/origin/wire";

/** What the page read at one moment. */
export interface RawBlockSample {
  /** Page's Date.now() when the frame was drawn. */
  atMs: number;
  /** The 32 data bits, or null when the sample is unusable (see `invalid`). */
  value: number | null;
  invalid?: "no-video" | "paused" | "framing";
  /** Read from the last frame drawn, the video being stalled (what the viewer sees then). */
  frozen?: boolean;
  /** Smallest distance of a square's luma from the 128 threshold: how clearly it read. */
  contrast?: number;
  videoWidth?: number;
}

export interface LatencySample {
  atMs: number;
  /** The 32 bits read. */
  value: number;
  /** When the encoder drew the frame (epoch ms). */
  capturedMs: number;
  latencyMs: number;
  contrast: number;
  frozen: boolean;
}

export interface DrainedSamples {
  valid: LatencySample[];
  /** Unusable samples by reason (no video yet, paused, framing squares wrong, implausible value). */
  invalid: Record<string, number>;
  raw: number;
}

interface SamplerOptions {
  intervalMs: number;
  dataBits: number;
  squarePx: number;
  leftPx: number;
  topPx: number;
  referenceWidth: number;
}

/**
 * Runs inside the page (serialised by playwright: no outer references). Positions are the
 * reference geometry times videoWidth / referenceWidth, unrounded, so they also hold for a
 * rendition scaled down from a larger source.
 */
function pageSampler(o: SamplerOptions): void {
  const w = window as unknown as { __blockCodeSamples?: RawBlockSample[] };
  if (w.__blockCodeSamples) return;
  const samples: RawBlockSample[] = (w.__blockCodeSamples = []);
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  const squares = o.dataBits + 2; // white frame square, data, black frame square
  let drawn = false;
  setInterval(() => {
    const atMs = Date.now();
    const video = document.querySelector("video");
    if (!video || video.videoWidth === 0) return void samples.push({ atMs, value: null, invalid: "no-video" });
    if (video.paused) return void samples.push({ atMs, value: null, invalid: "paused" });
    const width = video.videoWidth;
    const frozen = video.readyState < 2; // stalled: the viewer still sees the last frame
    if (frozen && !drawn) return void samples.push({ atMs, value: null, invalid: "no-video" });
    if (!frozen) {
      if (canvas.width !== width) canvas.width = width;
      if (canvas.height !== video.videoHeight) canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0, width, video.videoHeight);
      drawn = true;
    }
    const scale = width / o.referenceWidth;
    const y = Math.floor((o.topPx + o.squarePx / 2) * scale);
    const rowWidth = Math.ceil((o.leftPx + squares * o.squarePx) * scale);
    const row = ctx.getImageData(0, y, Math.min(rowWidth, width), 1).data;
    const luma = (i: number) => {
      const p = Math.floor((o.leftPx + (i + 0.5) * o.squarePx) * scale) * 4;
      return 0.299 * row[p]! + 0.587 * row[p + 1]! + 0.114 * row[p + 2]!;
    };
    let contrast = 255;
    const lumas = Array.from({ length: squares }, (_, i) => luma(i));
    for (const l of lumas) contrast = Math.min(contrast, Math.abs(l - 128));
    if (lumas[0]! < 128 || lumas[squares - 1]! >= 128) return void samples.push({ atMs, value: null, invalid: "framing", contrast, videoWidth: width });
    let value = 0;
    for (let b = 1; b <= o.dataBits; b++) value = value * 2 + (lumas[b]! >= 128 ? 1 : 0); // MSB first, white = 1
    samples.push({ atMs, value, contrast: Math.round(contrast), videoWidth: width, frozen });
  }, o.intervalMs);
}

/** Starts sampling the page's video every `intervalMs` (idempotent). */
export async function startBlockCodeSampler(page: Page, intervalMs = 500): Promise<void> {
  const { dataBits, squarePx, leftPx, topPx, referenceWidth } = BLOCK_CODE;
  await page.evaluate(pageSampler, { intervalMs, dataBits, squarePx, leftPx, topPx, referenceWidth });
}

/** Takes every sample the page has collected since the last drain and decodes it. */
export async function drainBlockCodeSamples(page: Page): Promise<DrainedSamples> {
  const raw = await page.evaluate(() => {
    const w = window as unknown as { __blockCodeSamples?: RawBlockSample[] };
    return w.__blockCodeSamples?.splice(0) ?? [];
  });
  const out: DrainedSamples = { valid: [], invalid: {}, raw: raw.length };
  const reject = (why: string) => (out.invalid[why] = (out.invalid[why] ?? 0) + 1);
  for (const s of raw) {
    if (s.value === null) {
      reject(s.invalid ?? "unknown");
      continue;
    }
    const capturedMs = blockCodeToEpochMs(s.value, s.atMs);
    const latencyMs = s.atMs - capturedMs;
    // A misread bit (compression smear) gives a clock far off; a real latency is 0-60 s here.
    if (latencyMs < 0 || latencyMs > 60_000) {
      reject("implausible");
      continue;
    }
    out.valid.push({ atMs: s.atMs, value: s.value, capturedMs, latencyMs, contrast: s.contrast ?? 0, frozen: s.frozen === true });
  }
  return out;
}
