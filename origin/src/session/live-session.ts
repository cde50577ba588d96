import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { OriginConfig } from "../config.js";
import { h264CodecFromTs } from "../hls/codec-probe.js";
import { encodedCodecString, renderMasterPlaylist } from "../hls/master-playlist.js";
import { RenditionTrack, type Segment } from "../hls/media-playlist.js";
import type { IncomingPublish } from "../ingest/rtmp-server.js";
import type { Metrics } from "../metrics.js";
import { segmentFileName } from "../transcode/ffmpeg-args.js";
import { addPassthrough, freezeLadder } from "../transcode/ladder.js";
import { passthroughRefusal, type SourceProbe } from "../transcode/passthrough.js";
import { RestartBudget } from "../transcode/restart-budget.js";
import { TranscoderRun } from "../transcode/transcoder.js";
import type { ProducedSegment } from "../transcode/segment-watcher.js";
import { swarmIdOf, type RenditionInfo, type StreamSessionInfo, type StreamState } from "../wire/index.js";
import { PublishFeed, type FeedReady } from "./publish-feed.js";

export interface LiveSessionDeps {
  config: OriginConfig;
  metrics: Metrics;
  log: Logger;
  /** Called once, when the session has ended and its retention time is over. */
  onGone(session: LiveSession): void;
}

/**
 * One stream session: from the first accepted publish until the grace period after the last
 * publisher left runs out. Publisher reconnects and ffmpeg restarts continue the same
 * session (same URLs, same master playlist, continuing media sequence + discontinuity).
 */
export class LiveSession {
  readonly id = randomBytes(6).toString("base64url").replace(/[-_]/g, "x");
  readonly startedAt = new Date();
  endedAt: Date | undefined;
  state: Exclude<StreamState, "offline"> = "live";
  renditions: RenditionInfo[] = [];
  /** Rendered once every rendition has a segment (CODECS from real bytes), then never again. */
  master = "";
  private readonly codecs = new Map<string, string>();
  readonly tracks = new Map<string, RenditionTrack>();
  readonly dir: string;
  private publisher: { publish: IncomingPublish; feed: PublishFeed } | undefined;
  private run: TranscoderRun | undefined;
  /** Every ffmpeg of this session not yet ended: a finishing one may still write segments. */
  private readonly liveRuns = new Set<TranscoderRun>();
  private runs = 0;
  /** ffmpeg restarts allowed for the current publisher, per time window. */
  private restarts: RestartBudget;
  /** Wall-clock start and duration of each recent segment number, shared by all renditions. */
  private readonly clock = new Map<number, { startMs: number; durationSec: number }>();
  private slowSinceMs: number | undefined;
  private lastSlowWarningMs = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private retainTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    readonly stream: string,
    private readonly d: LiveSessionDeps,
  ) {
    this.dir = path.join(d.config.dataDir, "hls", stream, this.id);
    this.restarts = this.newRestartBudget();
    this.log = d.log.child({ component: "session", stream, session: this.id });
  }

  /** False until every rendition has a first segment: before that there is nothing to play. */
  get started(): boolean {
    return this.master !== "";
  }

  get hasPublisher(): boolean {
    return this.publisher !== undefined;
  }

  get publisherKeyValid(): boolean {
    return this.publisher?.publish.keyStillValid() ?? true;
  }

  info(): StreamSessionInfo {
    return {
      id: this.id,
      startedAt: this.startedAt.toISOString(),
      ...(this.endedAt ? { endedAt: this.endedAt.toISOString() } : {}),
      renditions: this.renditions,
      masterPlaylist: `/hls/${this.stream}/master.m3u8`,
      swarmId: swarmIdOf(this.stream, this.id),
      segmentDurationSec: this.d.config.hls.segmentSec,
    };
  }

  /** Takes a publisher connection: the first one, or a reconnect within the grace period. */
  attach(publish: IncomingPublish): void {
    clearTimeout(this.graceTimer);
    const isReconnect = this.runs > 0;
    this.state = "live";
    this.restarts = this.newRestartBudget();
    const feed = new PublishFeed(publish, {
      startTimeoutMs: this.d.config.transcode.startTimeoutMs,
      probeKeyframeInterval: this.d.config.transcode.passthrough,
      backlogBytes: this.d.config.transcode.backlogBytes,
      log: this.log,
      onReady: (ready) =>
        void this.onFeedReady(publish, ready).catch((err: Error) => {
          this.log.error({ err: err.message }, "could not start the transcoder");
          publish.disconnect("transcoder could not start");
        }),
      onDropped: (bytes) => {
        this.d.metrics.transcodeDropped.inc({ stream: this.stream }, bytes);
        this.log.warn({ bytes }, "transcoder behind, dropping input up to the next keyframe");
      },
    });
    this.publisher = { publish, feed };
    publish.onClose(() => this.onPublisherClosed(publish));
    this.log.info({ ip: publish.ip, keyFingerprint: publish.keyFingerprint, isReconnect }, "publisher attached");
  }

  disconnectPublisher(reason: string): void {
    this.publisher?.publish.disconnect(reason);
  }

  /** Ingest counters of the current publisher, for the rate gauges. */
  ingestCounters(): { bytes: number; frames: number } | undefined {
    const f = this.publisher?.feed;
    return f && { bytes: f.bytesIn, frames: f.videoFrames };
  }

  segmentPath(rendition: string, seq: number): string {
    return path.join(this.dir, rendition, segmentFileName(seq));
  }

  /** Stops ffmpeg and removes the session's files (shutdown, or a new session replaces it). */
  async destroy(): Promise<void> {
    clearTimeout(this.graceTimer);
    clearTimeout(this.retainTimer);
    this.publisher?.feed.close();
    this.publisher?.publish.disconnect("origin shutting down");
    this.publisher = undefined;
    await Promise.all([...this.liveRuns].map((r) => r.stop()));
    this.run = undefined;
    try {
      await fs.promises.rm(this.dir, { recursive: true, force: true });
      // The stream's folder goes too once no other session of it is there.
      await fs.promises.rmdir(path.dirname(this.dir)).catch(() => undefined);
    } catch (err) {
      this.log.error({ err: (err as Error).message, dir: this.dir }, "could not remove the session's files");
    }
  }

  private async onFeedReady(publish: IncomingPublish, ready: FeedReady): Promise<void> {
    // The previous publisher's ffmpeg may still be working through its backlog: it must end
    // (finishing its segment) before the next run numbers its own segments.
    if (this.liveRuns.size > 0) await Promise.all([...this.liveRuns].map((r) => r.stop()));
    if (this.publisher?.publish !== publish) return;
    const probe = { ...publish.announced(), keyframeIntervalMs: ready.keyframeIntervalMs };
    if (this.runs === 0) this.freeze(probe);
    const top = this.renditions[0];
    // A reconnect may bring other keyframes or another size: then the top rendition is encoded.
    const copySource =
      top?.passthrough === true && !passthroughRefusal(probe, this.d.config.hls.segmentSec) && probe.width === top.width && probe.height === top.height;
    if (top?.passthrough && !copySource) this.log.warn("source changed: encoding the passthrough rendition this time");
    this.startRun({ hasAudio: ready.hasAudio, copySource });
  }

  /** Fixes the ladder and master playlist for the whole session. */
  private freeze(a: SourceProbe & { videoKbps: number }): void {
    const { ladder, maxFps, audioKbps, passthrough } = this.d.config.transcode;
    if (!a.width || !a.height) this.log.warn("publisher sent no video size; assuming 1280x720");
    const source = { width: a.width || 1280, height: a.height || 720, fps: a.fps || maxFps };
    this.renditions = freezeLadder(ladder, source, { maxFps, audioKbps });
    const refusal = passthrough ? passthroughRefusal(a, this.d.config.hls.segmentSec) : undefined;
    if (refusal) this.log.warn({ reason: refusal }, "passthrough rendition refused");
    if (passthrough && !refusal) {
      // Without a bitrate in the metadata, the top rung's is the best guess for BANDWIDTH.
      const videoKbps = a.videoKbps || ladder[0]!.videoBitrateKbps;
      this.renditions = addPassthrough(this.renditions, { ...source, videoKbps }, audioKbps);
    }
    const { playlistSegments, retainExtraSegments, segmentSec } = this.d.config.hls;
    for (const r of this.renditions) {
      this.tracks.set(r.name, new RenditionTrack({ windowSize: playlistSegments, retainExtra: retainExtraSegments, targetDurationSec: segmentSec }));
    }
    this.log.info({ source, renditions: this.renditions.map((r) => r.name) }, "ladder frozen for the session");
  }

  private startRun(input: { hasAudio: boolean; copySource: boolean }): void {
    const publisher = this.publisher;
    if (!publisher) return;
    const runId = ++this.runs;
    const startNumber = Math.max(-1, ...[...this.tracks.values()].map((t) => t.lastSeq ?? -1)) + 1;
    const t = this.d.config.transcode;
    const run = new TranscoderRun({
      renditions: this.renditions,
      sessionDir: this.dir,
      runId,
      startNumber,
      segmentSec: this.d.config.hls.segmentSec,
      preset: t.preset,
      sourceHasAudio: input.hasAudio,
      copySource: input.copySource,
      ffmpegPath: t.ffmpegPath,
      stopTimeoutMs: t.stopTimeoutMs,
      log: this.log.child({ run: runId }),
      onSegment: (rendition, s) => this.publishSegment(rendition, s, runId, startNumber),
      onSpeed: (speed) => this.onSpeed(speed),
    });
    this.run = run;
    this.liveRuns.add(run);
    const segmentMs = this.d.config.hls.segmentSec * 1000;
    publisher.feed.connect(run.input, input.copySource ? { intervalMs: segmentMs, onOffGrid: () => this.stopCopying(run, input.hasAudio) } : undefined);
    this.log.info({ runId, startNumber, ...input }, "transcoder started");
    const backlog = setInterval(() => this.d.metrics.transcodeBacklog.set({ stream: this.stream }, run.input.writableLength), 1000);
    void run.done.then((exit) => {
      clearInterval(backlog);
      this.liveRuns.delete(run);
      if (this.run === run) this.run = undefined;
      // Still the current publisher and nobody asked it to stop: ffmpeg died, start another.
      if (!exit.requested && this.publisher === publisher && !run.input.writableEnded) this.restart(exit.error, input);
    });
  }

  /** The copied source's keyframes left the segment grid: encode its rendition from now on. */
  private stopCopying(run: TranscoderRun, hasAudio: boolean): void {
    this.log.warn("source keyframes left the segment grid: encoding the passthrough rendition instead");
    void run.stop().then(() => {
      if (this.publisher && !this.run) this.startRun({ hasAudio, copySource: false });
    });
  }

  private newRestartBudget(): RestartBudget {
    const t = this.d.config.transcode;
    return new RestartBudget(t.maxRestarts, t.restartWindowSec * 1000);
  }

  private restart(error: string | undefined, input: { hasAudio: boolean; copySource: boolean }): void {
    this.d.metrics.ffmpegRestarts.inc({ stream: this.stream });
    if (!this.restarts.take()) {
      this.log.error({ error, restartWindowSec: this.d.config.transcode.restartWindowSec }, "ffmpeg keeps failing, disconnecting the publisher");
      this.disconnectPublisher("transcoder keeps failing");
      return;
    }
    this.log.warn({ error, recentRestarts: this.restarts.recent }, "ffmpeg ended unexpectedly, restarting it");
    this.startRun(input);
  }

  private async publishSegment(rendition: string, s: ProducedSegment, runId: number, startNumber: number): Promise<void> {
    const track = this.tracks.get(rendition);
    if (!track) return;
    const bytes = await fs.promises.readFile(s.file);
    const segment: Segment = {
      seq: s.seq,
      durationSec: s.durationSec,
      startMs: this.startOf(s, s.seq === startNumber),
      sha256: createHash("sha256").update(bytes).digest("hex"),
      data: bytes,
      discontinuity: runId > 1 && s.seq === startNumber,
      fetches: 0,
    };
    if (!this.master) this.noteCodec(rendition, bytes);
    const expired = track.add(segment);
    this.d.metrics.segmentsProduced.inc({ stream: this.stream, rendition });
    for (const old of expired.filter((e) => !e.gap)) {
      this.d.metrics.segmentCopies.observe({ stream: this.stream, rendition }, old.fetches);
      await fs.promises.rm(this.segmentPath(rendition, old.seq), { force: true });
    }
  }

  /**
   * EXT-X-PROGRAM-DATE-TIME of segment n, the same in every rendition: continuous within a
   * run, and for a run's first segment the time it was finished minus its duration.
   */
  private startOf(s: ProducedSegment, runStart: boolean): number {
    const known = this.clock.get(s.seq);
    if (known) return known.startMs;
    const prev = this.clock.get(s.seq - 1);
    const startMs = !runStart && prev ? prev.startMs + prev.durationSec * 1000 : Date.now() - s.durationSec * 1000;
    this.clock.set(s.seq, { startMs, durationSec: s.durationSec });
    this.clock.delete(s.seq - 64);
    return startMs;
  }

  private onSpeed(speed: number): void {
    this.d.metrics.transcodeSpeed.set({ stream: this.stream }, speed);
    const now = Date.now();
    if (speed >= 0.95) return void (this.slowSinceMs = undefined);
    this.slowSinceMs ??= now;
    // Sustained, not a start-up dip; then at most one warning a minute.
    if (now - this.slowSinceMs > 10_000 && now - this.lastSlowWarningMs > 60_000) {
      this.lastSlowWarningMs = now;
      this.log.warn({ speed }, "transcoder slower than real time: use a smaller ladder or a faster preset");
    }
  }

  private noteCodec(rendition: string, firstSegment: Buffer): void {
    const found = h264CodecFromTs(firstSegment);
    if (!found) this.log.warn({ rendition }, "no SPS in the first segment, CODECS from the encoder settings");
    const r = this.renditions.find((x) => x.name === rendition)!;
    this.codecs.set(rendition, found ?? encodedCodecString(r));
    if (this.codecs.size < this.renditions.length) return;
    this.master = renderMasterPlaylist(this.id, this.renditions, (x) => this.codecs.get(x.name)!);
    this.log.info("session is live: every rendition has a segment");
  }

  private onPublisherClosed(publish: IncomingPublish): void {
    if (this.publisher?.publish !== publish) return;
    this.publisher.feed.close();
    this.publisher = undefined;
    // ffmpeg sees the end of its input and finishes the segment in progress.
    this.run?.finishInput();
    if (this.runs === 0) {
      // Never went live (refused codec, no video): nothing to resume or to show.
      void this.destroy().then(() => this.d.onGone(this));
      return;
    }
    this.state = "reconnecting";
    const graceMs = this.d.config.session.graceSec * 1000;
    this.log.info({ graceMs }, "publisher left, waiting for a reconnect");
    this.graceTimer = setTimeout(() => this.end(), graceMs);
  }

  private end(): void {
    this.state = "ended";
    this.endedAt = new Date();
    void Promise.all([...this.liveRuns].map((r) => r.done)).then(() => {
      for (const t of this.tracks.values()) t.end();
      this.log.info("session ended");
    });
    this.retainTimer = setTimeout(() => {
      void this.destroy().then(() => this.d.onGone(this));
    }, this.d.config.session.endedRetainSec * 1000);
  }
}
