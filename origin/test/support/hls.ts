// Reading what the origin serves, as a player would.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SegmentHashList, StreamInfo, StreamListResponse } from "../../src/wire/index.js";
import { getJson, waitFor } from "./origin-process.js";

export async function streamInfo(http: string, name: string): Promise<StreamInfo | undefined> {
  const list = await getJson<StreamListResponse>(`${http}/api/streams`);
  return list.streams.find((s) => s.name === name);
}

export async function waitLive(http: string, name: string, timeoutMs = 30_000): Promise<StreamInfo> {
  return waitFor(async () => {
    const s = await streamInfo(http, name);
    return s?.state === "live" && s.session ? s : undefined;
  }, timeoutMs);
}

export interface MediaPlaylist {
  text: string;
  mediaSequence: number;
  segments: string[];
}

export async function mediaPlaylist(http: string, stream: string, session: string, rendition: string): Promise<MediaPlaylist> {
  const res = await fetch(`${http}/hls/${stream}/${session}/${rendition}/index.m3u8`);
  const text = await res.text();
  const m = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text);
  return {
    text,
    mediaSequence: m ? Number(m[1]) : -1,
    segments: text.split("\n").filter((l) => l.endsWith(".ts")),
  };
}

/** Waits until the rendition's playlist lists a segment with sequence number >= seq. */
export async function waitForSegment(http: string, stream: string, session: string, rendition: string, seq: number, timeoutMs = 30_000) {
  return waitFor(async () => {
    const p = await mediaPlaylist(http, stream, session, rendition);
    return p.segments.some((s) => Number(s.slice(0, -3)) >= seq) ? p : undefined;
  }, timeoutMs);
}

export async function fetchSegment(http: string, stream: string, session: string, rendition: string, seq: number) {
  const res = await fetch(`${http}/hls/${stream}/${session}/${rendition}/${seq}.ts`);
  if (!res.ok) throw new Error(`segment ${rendition}/${seq}: ${res.status}`);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

export async function hashes(http: string, stream: string, session: string, rendition: string): Promise<SegmentHashList> {
  return getJson<SegmentHashList>(`${http}/hls/${stream}/${session}/${rendition}/hashes.json`);
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export function tempFile(name: string, bytes: Buffer): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "seg-")), name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Seeded PRNG (mulberry32) so fuzz inputs are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
