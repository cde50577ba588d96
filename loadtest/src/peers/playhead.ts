// A light peer's simulated playhead, after hls.js and the player: it starts liveSync behind the
// live edge, plays through what is buffered in real time, stalls where the next segment is
// missing, skips EXT-X-GAP segments, keeps the target latency with the player's latency keeper
// (0.9x / 1.08x; the target grows 1 s per recent stall up to a segment, as the player's does), and jumps
// back to the sync point when far too far behind.
import { keeperRate, StallMemory } from "@peercast/player/latency-keeper";
import type { LatencyProfile } from "@peercast/player/latency-profile";
import type { PlaylistSegment } from "./media-playlist.js";

export interface TimedSegment {
  segment: PlaylistSegment;
  /** Media time, back to back across the playlist as hls.js places fragments. */
  startSec: number;
  endSec: number;
  /** When the peer saw it listed (Date.now()). */
  listedAt?: number;
}

export class Playhead {
  position: number | undefined;
  rate = 1;
  private readonly buffered = new Map<number, TimedSegment>();
  private edge: { endSec: number; at: number; durationSec: number } | undefined;
  private current: TimedSegment | undefined;
  private lastAdvance: number | undefined;
  private playingSince: number | undefined;
  private stallSince: number | undefined;
  private stalls = 0;
  private readonly recentStalls = new StallMemory();
  private stallMs = 0;
  private playingMs = 0;
  private firstFrameAt: number | undefined;

  has(seq: number): boolean {
    return this.buffered.has(seq);
  }

  buffer(entry: TimedSegment): void {
    this.buffered.set(entry.segment.seq, entry);
  }

  /** A new last segment in the playlist: the live edge. The first one places the playhead. */
  edgeMoved(last: TimedSegment, now: number, liveSyncSec: number): void {
    this.edge = { endSec: last.endSec, at: now, durationSec: last.segment.durationSec };
    this.position ??= Math.max(0, last.endSec - liveSyncSec);
  }

  /** Where the live edge is now: the last segment's end, moving on in real time since it appeared. */
  private edgeSec(now: number): number {
    return this.edge ? this.edge.endSec + (now - this.edge.at) / 1000 : 0;
  }

  advance(now: number, listed: Map<number, TimedSegment>, hls: LatencyProfile["hls"]): void {
    if (this.position === undefined) return;
    const dt = this.lastAdvance === undefined ? 0 : (now - this.lastAdvance) / 1000;
    this.lastAdvance = now;
    const at = (p: number) => [...listed.values()].find((e) => e.startSec <= p + 0.001 && p < e.endSec - 0.001);
    for (let e = at(this.position); e?.segment.gap; e = at(this.position)) this.position = e.endSec; // hls.js skips gaps
    this.current = this.bufferedAt(this.position);
    if (this.current) {
      if (this.playingSince === undefined) this.resume(now);
      else this.position = Math.min(this.position + dt * this.rate, this.bufferedEnd(this.current));
    } else if (this.playingSince !== undefined) {
      this.stall(now);
    }
    const latency = this.edgeSec(now) - this.position;
    const target = hls.liveSyncDuration + Math.min(this.recentStalls.recent(now), this.edge?.durationSec ?? 0);
    if (latency > hls.liveMaxLatencyDuration) this.position = this.edgeSec(now) - target;
    this.rate = keeperRate(this.rate, latency - target);
    for (const [seq, e] of this.buffered) if (e.endSec < this.position - hls.backBufferLength) this.buffered.delete(seq);
  }

  private bufferedAt(position: number): TimedSegment | undefined {
    for (const e of this.buffered.values()) if (e.startSec <= position + 0.001 && position < e.endSec - 0.001) return e;
    return undefined;
  }

  /** End of the buffered run that starts with `from` (segments back to back). */
  private bufferedEnd(from: TimedSegment): number {
    let end = from;
    for (let next = this.buffered.get(end.segment.seq + 1); next && next.startSec <= end.endSec + 0.001; next = this.buffered.get(end.segment.seq + 1))
      end = next;
    return end.endSec;
  }

  private resume(now: number): void {
    this.firstFrameAt ??= now;
    if (this.stallSince !== undefined) this.stallMs += now - this.stallSince;
    this.stallSince = undefined;
    this.playingSince = now;
  }

  private stall(now: number): void {
    this.playingMs += now - this.playingSince!;
    this.playingSince = undefined;
    this.stalls++;
    this.recentStalls.stalled(now);
    this.stallSince = now;
  }

  /** Ends the current playing or stalled stretch (leaving, or a new session). */
  stop(now: number): void {
    if (this.playingSince !== undefined) this.playingMs += now - this.playingSince;
    if (this.stallSince !== undefined) this.stallMs += now - this.stallSince;
    this.playingSince = this.stallSince = undefined;
  }

  /** A new session: a new timeline, counters kept. */
  reset(now: number): void {
    this.stop(now);
    this.buffered.clear();
    this.position = this.edge = this.current = this.lastAdvance = undefined;
    this.rate = 1;
  }

  figures(now: number): { stalls: number; stallMs: number; playingMs: number; latencyMs: number | undefined; firstFrameAt: number | undefined } {
    const c = this.current;
    return {
      stalls: this.stalls,
      stallMs: this.stallMs + (this.stallSince !== undefined ? now - this.stallSince : 0),
      playingMs: this.playingMs + (this.playingSince !== undefined ? now - this.playingSince : 0),
      // Now minus the PROGRAM-DATE-TIME of the frame at the playhead, as the player reports it.
      latencyMs: c && this.position !== undefined ? Math.round(now - (c.segment.pdtMs + (this.position - c.startSec) * 1000)) : undefined,
      firstFrameAt: this.firstFrameAt,
    };
  }
}
