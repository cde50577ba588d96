import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { Logger } from "pino";
import type { RenditionInfo } from "../wire/index.js";
import { buildTranscodeJob, ffmpegPlaylistName } from "./ffmpeg-args.js";
import { runFfmpeg, type FfmpegExit } from "./ffmpeg-process.js";
import { SegmentWatcher, type ProducedSegment } from "./segment-watcher.js";

export interface TranscoderRunOptions {
  renditions: RenditionInfo[];
  sessionDir: string;
  runId: number;
  startNumber: number;
  segmentSec: number;
  preset: string;
  sourceHasAudio: boolean;
  copySource: boolean;
  ffmpegPath: string;
  stopTimeoutMs: number;
  log: Logger;
  onSegment(rendition: string, s: ProducedSegment): Promise<void>;
  onSpeed: (speed: number) => void;
}

/** One ffmpeg run of a session: FLV in through `input`, finished segments out via onSegment. */
export class TranscoderRun {
  readonly input = new PassThrough();
  /** Resolves when ffmpeg has ended and every segment it finished has been reported. */
  readonly done: Promise<FfmpegExit>;
  private readonly stopFfmpeg: () => Promise<FfmpegExit>;

  constructor(o: TranscoderRunOptions) {
    for (const r of o.renditions) fs.mkdirSync(path.join(o.sessionDir, r.name), { recursive: true });
    // ffmpeg going away closes the pipe; its writes then fail, which is expected, not fatal.
    this.input.on("error", () => undefined);
    const watchers = o.renditions.map(
      (r) => new SegmentWatcher(path.join(o.sessionDir, r.name), ffmpegPlaylistName(o.runId), (s) => o.onSegment(r.name, s), o.log),
    );
    const job = buildTranscodeJob({ ...o, input: this.input });
    const run = runFfmpeg(job, { ffmpegPath: o.ffmpegPath, log: o.log, stopTimeoutMs: o.stopTimeoutMs, onSpeed: o.onSpeed });
    this.stopFfmpeg = run.stop;
    this.done = run.done.then(async (exit) => {
      await Promise.all(watchers.map((w) => w.close()));
      return exit;
    });
  }

  /** Ends the input so ffmpeg finishes the last segment on its own (publisher left). */
  finishInput(): void {
    this.input.end();
  }

  stop(): Promise<FfmpegExit> {
    this.input.end();
    return this.stopFfmpeg().then(() => this.done);
  }
}
