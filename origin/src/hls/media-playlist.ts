import type { SegmentHashList } from "../wire/index.js";
import { segmentFileName } from "../transcode/ffmpeg-args.js";

export interface Segment {
  seq: number;
  durationSec: number;
  /** Wall-clock start of the segment (EXT-X-PROGRAM-DATE-TIME). */
  startMs: number;
  sha256: string;
  /** The bytes hashed above: what the origin serves (never re-read from disk). */
  data: Buffer;
  /** First segment after a transcoder (re)start: EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  /** Copies the origin served (a byte range counts its share): the copies-per-segment figure. */
  fetches: number;
  /** A number this rendition never produced (ffmpeg died between renditions): EXT-X-GAP. */
  gap?: boolean;
}

export interface TrackOptions {
  /** Segments listed in the playlist. */
  windowSize: number;
  /** Segments kept (served, hashed) after leaving the playlist, for slow peers. */
  retainExtra: number;
  targetDurationSec: number;
}

/**
 * One rendition's live segment window. The origin writes every playlist from here (ffmpeg
 * writes segments only): a segment is listed only once complete and hashed, the media
 * sequence never resets within a session, and gaps are marked with discontinuities.
 */
export class RenditionTrack {
  private readonly segments: Segment[] = [];
  private discontinuitySeq = 0;
  private ended = false;
  /** EXT-X-TARGETDURATION may never decrease within a playlist's life (RFC 8216). */
  private targetSec: number;
  /** Blocked playlist requests (see `until`), woken by the segment they wait for or the end. */
  private readonly waiters = new Set<{ seq: number; wake: () => void }>();

  constructor(private readonly o: TrackOptions) {
    this.targetSec = Math.ceil(o.targetDurationSec);
  }

  /** Adds a completed segment; returns segments that left the retention window (to delete). */
  add(segment: Segment): Segment[] {
    const last = this.lastSeq;
    if (last !== undefined && segment.seq <= last) throw new RangeError(`segment ${segment.seq} is not after ${last}`);
    // Keep numbering dense: media sequence + position must equal each segment's number.
    for (let seq = (last ?? segment.seq - 1) + 1; seq < segment.seq; seq++) {
      const startMs = segment.startMs - (segment.seq - seq) * segment.durationSec * 1000;
      this.segments.push({ ...segment, seq, startMs, sha256: "", data: Buffer.alloc(0), discontinuity: false, gap: true });
    }
    this.segments.push(segment);
    this.targetSec = Math.max(this.targetSec, Math.round(segment.durationSec));
    const keep = this.o.windowSize + this.o.retainExtra;
    const expired = this.segments.length > keep ? this.segments.splice(0, this.segments.length - keep) : [];
    for (const s of expired) if (s.discontinuity) this.discontinuitySeq++;
    this.wake();
    return expired;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  get targetDurationSec(): number {
    return this.targetSec;
  }

  /**
   * Resolves once segment `seq` is listed or the playlist has ended (true), or after
   * `timeoutMs` (false): a blocking playlist reload (RFC 8216bis, `_HLS_msn`).
   */
  until(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.ended || (this.lastSeq ?? -1) >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        seq,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private wake(): void {
    const last = this.lastSeq ?? -1;
    for (const w of this.waiters) if (this.ended || w.seq <= last) w.wake();
  }

  get lastSeq(): number | undefined {
    return this.segments.at(-1)?.seq;
  }

  /** A served segment by number (gaps are not served). */
  get(seq: number): Segment | undefined {
    const first = this.segments[0];
    if (!first) return undefined;
    const s = this.segments[seq - first.seq];
    return s?.seq === seq && !s.gap ? s : undefined;
  }

  all(): readonly Segment[] {
    return this.segments;
  }

  render(): string {
    const listed = this.segments.slice(-this.o.windowSize);
    // Discontinuities in the retained-but-unlisted head count as removed from the playlist.
    const hidden = this.segments.slice(0, this.segments.length - listed.length);
    const discSeq = this.discontinuitySeq + hidden.filter((s) => s.discontinuity).length;
    const lines = [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      `#EXT-X-TARGETDURATION:${this.targetSec}`,
      // Players may ask for the next segment's playlist before it exists and get it the moment it
      // does: without it they learn of a segment up to a target duration late, and sit that much
      // further behind live.
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
      `#EXT-X-MEDIA-SEQUENCE:${listed[0]?.seq ?? 0}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${discSeq}`,
    ];
    listed.forEach((s, i) => {
      if (s.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
      if (i === 0 || s.discontinuity) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.startMs).toISOString()}`);
      if (s.gap) lines.push("#EXT-X-GAP");
      lines.push(`#EXTINF:${s.durationSec.toFixed(3)},`, segmentFileName(s.seq));
    });
    if (this.ended) lines.push("#EXT-X-ENDLIST");
    return lines.join("\n") + "\n";
  }

  /** Hashes of every served segment: a superset of what any playlist lists. */
  hashes(): SegmentHashList {
    return {
      version: 1,
      algorithm: "sha256",
      segments: Object.fromEntries(this.segments.filter((s) => !s.gap).map((s) => [segmentFileName(s.seq), s.sha256])),
    };
  }
}
