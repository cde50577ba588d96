import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";

export interface ProducedSegment {
  seq: number;
  durationSec: number;
  file: string;
}

/** Entries of ffmpeg's own (short) HLS playlist, with their media sequence numbers. */
export function parseFfmpegPlaylist(text: string): { seq: number; durationSec: number; uri: string }[] {
  const out: { seq: number; durationSec: number; uri: string }[] = [];
  let seq = 0;
  let duration: number | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) seq = Number(line.slice(22));
    else if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && duration !== undefined) {
      out.push({ seq: seq++, durationSec: duration, uri: line });
      duration = undefined;
    }
  }
  return out;
}

/**
 * Follows the playlist ffmpeg writes for one rendition. ffmpeg renames a segment into place
 * (temp_file) before it lists it, so a listed segment is complete. Reports each new segment
 * once, in order. inotify gives the news at once; a slow poll covers missed events.
 */
export class SegmentWatcher {
  private lastSeq = -1;
  private watcher: fs.FSWatcher | undefined;
  private readonly timer: NodeJS.Timeout;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly playlistName: string,
    private readonly onSegment: (s: ProducedSegment) => Promise<void>,
    private readonly log: Logger,
  ) {
    try {
      this.watcher = fs.watch(dir, (_e, name) => {
        if (name === playlistName) void this.poll();
      });
      this.watcher.on("error", () => undefined);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "cannot watch segment folder, polling only");
    }
    this.timer = setInterval(() => void this.poll(), 500);
  }

  /** Reads the playlist and reports new segments; calls are serialised. */
  poll(): Promise<void> {
    this.reading = this.reading.then(() => this.read());
    return this.reading;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.watcher?.close();
    await this.poll();
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await fs.promises.readFile(path.join(this.dir, this.playlistName), "utf8");
    } catch {
      return; // not written yet
    }
    for (const e of parseFfmpegPlaylist(text)) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      try {
        await this.onSegment({ seq: e.seq, durationSec: e.durationSec, file: path.join(this.dir, path.basename(e.uri)) });
      } catch (err) {
        this.log.error({ seq: e.seq, err: (err as Error).message }, "segment could not be published");
      }
    }
  }
}
