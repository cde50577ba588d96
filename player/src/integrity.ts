// Checks every segment a peer sends against the SHA-256 the origin published (hashes.json
// next to each rendition's playlist) before hls.js ever sees it.
import type { SegmentHashList } from "@peercast/origin/wire";

const RETRIES = 6;
const RETRY_MS = 400;
const FETCH_TIMEOUT_MS = 3000;

/** ok: the origin's bytes; mismatch: not them; unknown: no hash could be had to compare. */
export type Verdict = "ok" | "mismatch" | "unknown";

interface RenditionHashes {
  segments: Record<string, string>;
  /** One fetch at a time per rendition; concurrent checks share it. */
  pending?: Promise<void>;
}

export class SegmentIntegrity {
  private readonly byDir = new Map<string, RenditionHashes>();

  constructor(private readonly onHttpBytes: (n: number) => void) {}

  async check(url: string, data: ArrayBuffer): Promise<Verdict> {
    const { dir, file } = split(url);
    const expected = await this.expected(dir, file);
    if (!expected) return "unknown";
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    let hex = "";
    for (const b of digest) hex += b.toString(16).padStart(2, "0");
    return hex === expected ? "ok" : "mismatch";
  }

  /**
   * Fetches a rendition's hash list as soon as its playlist is loaded (the origin lists a
   * hash before the segment), so a check is normally a lookup, not a round trip.
   */
  prefetch(playlistUrl: string): void {
    const { dir } = split(playlistUrl);
    const entry = this.entryFor(dir);
    void this.refresh(dir, entry);
  }

  private async expected(dir: string, file: string): Promise<string | undefined> {
    const entry = this.entryFor(dir);
    // The origin lists a hash before any playlist lists the segment, so one fresh fetch
    // normally answers; retries cover an edge serving a slightly older copy.
    for (let attempt = 0; attempt <= RETRIES && !Object.hasOwn(entry.segments, file); attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, RETRY_MS));
      await this.refresh(dir, entry);
    }
    return Object.hasOwn(entry.segments, file) ? entry.segments[file] : undefined;
  }

  private entryFor(dir: string): RenditionHashes {
    let entry = this.byDir.get(dir);
    if (!entry) this.byDir.set(dir, (entry = { segments: {} }));
    return entry;
  }

  private refresh(dir: string, entry: RenditionHashes): Promise<void> {
    entry.pending ??= (async () => {
      try {
        const res = await fetch(`${dir}hashes.json`, { cache: "no-store", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        const body = await res.text();
        this.onHttpBytes(body.length);
        if (!res.ok) return;
        const list = JSON.parse(body) as SegmentHashList;
        if (list.version === 1 && list.algorithm === "sha256") entry.segments = list.segments;
      } catch {
        /* a failed fetch leaves the old list; the caller retries */
      } finally {
        entry.pending = undefined;
      }
    })();
    return entry.pending;
  }
}

function split(url: string): { dir: string; file: string } {
  const u = new URL(url, location.href);
  const path = u.origin + u.pathname;
  const cut = path.lastIndexOf("/") + 1;
  return { dir: path.slice(0, cut), file: path.slice(cut) };
}
