import type { Writable } from "node:stream";
import type { Logger } from "pino";
import type { IncomingPublish } from "../ingest/rtmp-server.js";
import { parseFlvTag, type FlvTag } from "../ingest/flv-tags.js";

export interface FeedReady {
  hasAudio: boolean;
  /** Time between the first two keyframes, when probing was asked for and it was seen. */
  keyframeIntervalMs?: number;
}

export interface PublishFeedOptions {
  startTimeoutMs: number;
  /** Wait for a second keyframe to measure the source's keyframe interval (passthrough). */
  probeKeyframeInterval: boolean;
  /** Transcoder input backlog above which frames are dropped up to the next keyframe. */
  backlogBytes: number;
  log: Logger;
  onReady(ready: FeedReady): void;
  onDropped(bytes: number): void;
}

const MAX_STARTUP_TAGS = 4000;

/**
 * The FLV from one publisher connection on its way to the transcoder. Holds the stream back
 * until it is known to be usable (H.264 video with a keyframe), keeps the headers so a
 * restarted ffmpeg can resume at the next keyframe, and bounds the transcoder's backlog.
 */
export class PublishFeed {
  bytesIn = 0;
  videoFrames = 0;
  private header: Buffer | undefined;
  private metadata: Buffer | undefined;
  private audioConfig: Buffer | undefined;
  private videoConfig: Buffer | undefined;
  private startup: { buf: Buffer; tag: FlvTag }[] | undefined = [];
  private sawAudio = false;
  private readonly keyframeTimesMs: number[] = [];
  private grid: { intervalMs: number; onOffGrid(): void; lastOnGridMs: number | undefined } | undefined;
  private ready = false;
  private out: Writable | undefined;
  private waitForKeyframe = true;
  private readonly startTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly publish: IncomingPublish,
    private readonly o: PublishFeedOptions,
  ) {
    this.startTimer = setTimeout(() => {
      // A keyframe came but no second one to measure the interval: start, interval unknown.
      if (this.keyframeTimesMs.length > 0 && this.videoConfig) return this.declareReady(undefined);
      this.refuse(`no H.264 keyframe within ${o.startTimeoutMs} ms (is video enabled?)`);
    }, o.startTimeoutMs);
    publish.subscribe((buf) => this.onTag(buf));
  }

  /**
   * Sends the stream to a (new) transcoder input, starting with headers and a keyframe. With
   * `keyframeGrid`, the source is being copied into segments: `onOffGrid` is called once if
   * a keyframe due on the grid (every intervalMs) does not come.
   */
  connect(out: Writable, keyframeGrid?: { intervalMs: number; onOffGrid(): void }): void {
    this.out = out;
    this.grid = keyframeGrid && { ...keyframeGrid, lastOnGridMs: undefined };
    for (const b of [this.header, this.metadata, this.audioConfig, this.videoConfig]) if (b) out.write(b);
    this.waitForKeyframe = true;
    const pending = this.startup;
    this.startup = undefined;
    for (const p of pending ?? []) this.forward(p.buf, p.tag);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.startTimer);
    this.out = undefined;
    this.startup = undefined;
  }

  private onTag(buf: Buffer): void {
    if (this.closed) return;
    this.bytesIn += buf.length;
    const tag = parseFlvTag(buf);
    if (tag.kind === "header") return void (this.header = Buffer.from(buf));
    if (tag.kind === "script") return void (this.metadata = Buffer.from(buf));
    if (tag.kind === "audio") {
      this.sawAudio = true;
      if (tag.sequenceHeader) return void (this.audioConfig = Buffer.from(buf));
    }
    if (tag.kind === "video") {
      this.videoFrames++;
      if (tag.codec !== "h264") return this.refuse(`unsupported video codec ${tag.codec} (send H.264)`);
      if (tag.sequenceHeader) return void (this.videoConfig = Buffer.from(buf));
    }
    if (this.startup) return this.hold(buf, tag);
    this.forward(buf, tag);
  }

  /** Before the transcoder starts: keep tags from the latest keyframe on, and decide readiness. */
  private hold(buf: Buffer, tag: FlvTag): void {
    const startup = this.startup!;
    const isKey = tag.kind === "video" && tag.keyframe;
    if (isKey) {
      startup.length = 0;
      this.keyframeTimesMs.push(tag.timestampMs);
    }
    if (startup.length === 0 && !isKey) return;
    startup.push({ buf: Buffer.from(buf), tag });
    if (startup.length > MAX_STARTUP_TAGS) return this.refuse("no keyframe for too long");
    if (!isKey || !this.videoConfig) return;
    if (!this.o.probeKeyframeInterval) return this.declareReady(undefined);
    const [a, b] = this.keyframeTimesMs;
    if (b !== undefined) this.declareReady(b - a!);
  }

  private declareReady(keyframeIntervalMs: number | undefined): void {
    if (this.ready) return;
    this.ready = true;
    clearTimeout(this.startTimer);
    this.o.onReady({ hasAudio: this.sawAudio || this.publish.announced().hasAudio, keyframeIntervalMs });
  }

  private forward(buf: Buffer, tag: FlvTag): void {
    const out = this.out;
    if (!out) return;
    const isKey = tag.kind === "video" && tag.keyframe;
    if (this.waitForKeyframe && !isKey) return;
    if (out.writableLength > this.o.backlogBytes) {
      // ffmpeg is behind: drop up to the next keyframe rather than buffer without bound.
      this.waitForKeyframe = true;
      this.o.onDropped(buf.length);
      return;
    }
    this.waitForKeyframe = false;
    if (isKey && this.grid) this.checkGrid(tag.timestampMs);
    out.write(buf);
  }

  private checkGrid(t: number): void {
    const g = this.grid!;
    const since = g.lastOnGridMs === undefined ? 0 : t - g.lastOnGridMs;
    // On the grid (within a couple of ms of ms-rounded timestamps): the segment cut is here.
    if (g.lastOnGridMs === undefined || Math.abs(since % g.intervalMs) <= 2 || g.intervalMs - (since % g.intervalMs) <= 2) {
      g.lastOnGridMs = t;
    }
    if (t - g.lastOnGridMs > g.intervalMs + 2) {
      this.grid = undefined;
      g.onOffGrid();
    }
  }

  private refuse(reason: string): void {
    if (this.closed) return;
    this.o.log.warn({ reason }, "publish refused");
    this.close();
    this.publish.disconnect(reason);
  }
}
