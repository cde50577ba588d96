import type { Logger } from "pino";
import { BLOCK_CODE } from "../wire/index.js";
import type { FfmpegJob } from "../transcode/ffmpeg-args.js";
import { runFfmpeg, type FfmpegRun } from "../transcode/ffmpeg-process.js";

export interface TestPictureOptions {
  width: number;
  height: number;
  fps: number;
  /** Camera-like grain: much harder to encode than a flat pattern (benchmarks use it). */
  noise: boolean;
  /** Wall-clock ms the frame times count from (frame time 0). */
  epochMs: number;
}

/**
 * The test picture's filter chain: moving pattern, the wall clock as text (UTC, ms) and as the
 * BLOCK_CODE row of squares, so a page can read glass-to-glass latency from a canvas.
 */
export function testPictureFilter(o: TestPictureOptions): string {
  const scale = o.width / BLOCK_CODE.referenceWidth;
  const sq = Math.max(2, Math.round(BLOCK_CODE.squarePx * scale));
  const left = Math.round(BLOCK_CODE.leftPx * scale);
  const top = Math.round(BLOCK_CODE.topPx * scale);
  const n = BLOCK_CODE.dataBits;
  const box = (i: number, color: string, enable?: string) =>
    `drawbox=x=${left + i * sq}:y=${top}:w=${sq}:h=${sq}:color=${color}:t=fill` + (enable ? `:enable='${enable}'` : "");
  const bits = Array.from({ length: n }, (_, b) =>
    // t is seconds since epochMs (see setpts below); bit b of the clock's ms, MSB first.
    box(1 + b, "white", `mod(floor((${o.epochMs}+t*1000)/${2 ** (n - 1 - b)})\\,2)`),
  );
  return [
    // Frame times from the real-time clock, so the stamps are when each frame was made.
    `setpts='(RTCTIME-${o.epochMs}000)/(TB*1000000)'`,
    ...(o.noise ? ["noise=alls=14:allf=t"] : []),
    `drawbox=x=${left}:y=${top}:w=${(n + 2) * sq}:h=${sq}:color=black:t=fill`,
    box(0, "white"),
    ...bits,
    `drawtext=text='%{pts\\:hms\\:${((o.epochMs % 86_400_000) / 1000).toFixed(3)}} UTC':x=${left}:y=${top + sq * 2}:fontsize=${Math.round(40 * scale)}` +
      ":fontcolor=white:box=1:boxcolor=black@0.8",
    // Once the clock is drawn, frame times start at 0 like the audio's, still on the wall clock
    // (a late frame leaves a gap, as a camera's does). Left counting from epochMs, taken before
    // ffmpeg started, the video runs ahead of the audio by ffmpeg's start-up time, and ffmpeg,
    // reading whichever input is behind, takes one video frame per that delay: 1-3 frames a
    // second instead of the frame rate.
    "setpts=PTS-STARTPTS",
  ].join(",");
}

export interface TestSourceOptions {
  url: string;
  width: number;
  height: number;
  ffmpegPath: string;
  log: Logger;
  /** Called before each start, e.g. to let exactly one connection in. */
  beforeStart?: () => void;
}

/** The ffmpeg job of the built-in source: 30 fps picture + 440 Hz tone, H.264/AAC over RTMP. */
export function buildTestSourceJob(o: { url: string; width: number; height: number; noise: boolean }): FfmpegJob {
  const filter = testPictureFilter({ ...o, fps: 30, epochMs: Date.now() });
  // ~0.15 bit per pixel: a clean source for a 2-core machine to encode in real time.
  const kbps = Math.max(300, Math.round((o.width * o.height * 30 * 0.15) / 1000));
  return {
    inputs: [
      { source: `testsrc2=size=${o.width}x${o.height}:rate=30`, options: ["-re", "-f", "lavfi"] },
      { source: "sine=frequency=440:sample_rate=48000", options: ["-re", "-f", "lavfi"] },
    ],
    outputs: [
      {
        target: o.url,
        options: [
          "-filter_complex",
          `[0:v]${filter}[v]`,
          "-map",
          "[v]",
          "-map",
          "1:a",
          "-c:v",
          "libx264",
          "-preset",
          "ultrafast",
          "-tune",
          "zerolatency",
          "-pix_fmt",
          "yuv420p",
          "-g",
          "60",
          "-b:v",
          `${kbps}k`,
          "-c:a",
          "aac",
          "-b:a",
          "128k",
          "-f",
          "flv",
        ],
      },
    ],
  };
}

/** Runs the built-in source and restarts it if it stops, until stop() is called. */
export class TestSource {
  private run: FfmpegRun | undefined;
  private stopped = false;

  constructor(private readonly o: TestSourceOptions) {}

  start(): void {
    if (this.stopped) return;
    this.o.beforeStart?.();
    const run = runFfmpeg(buildTestSourceJob({ ...this.o, noise: false }), {
      ffmpegPath: this.o.ffmpegPath,
      log: this.o.log,
      stopTimeoutMs: 3000,
    });
    this.run = run;
    this.o.log.info({ size: `${this.o.width}x${this.o.height}` }, "test source publishing");
    void run.done.then((exit) => {
      if (this.stopped || exit.requested) return;
      this.o.log.warn({ error: exit.error }, "test source stopped, restarting in 2 s");
      setTimeout(() => this.start(), 2000).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.run?.stop();
  }
}
