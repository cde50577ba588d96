// The one module that starts ffmpeg. fluent-ffmpeg is archived upstream: swapping it for a
// plain spawn only touches this file, since everything else speaks FfmpegJob.
import ffmpeg from "fluent-ffmpeg";
import type { Logger } from "pino";
import type { FfmpegJob } from "./ffmpeg-args.js";

export interface FfmpegExit {
  /** True when it ended because stop() asked it to. */
  requested: boolean;
  error?: string;
}

export interface FfmpegRunOptions {
  ffmpegPath: string;
  log: Logger;
  /** After SIGINT (ffmpeg finishes its files), how long to wait before SIGKILL. */
  stopTimeoutMs: number;
  /** Called with ffmpeg's reported speed (x real time) from its progress lines. */
  onSpeed?: (speed: number) => void;
}

export interface FfmpegRun {
  /** Resolves exactly once, when the process has ended, whatever the reason. */
  readonly done: Promise<FfmpegExit>;
  /** Idempotent: SIGINT, then SIGKILL after the timeout. Resolves when it has ended. */
  readonly stop: () => Promise<FfmpegExit>;
}

const SPEED = /speed=\s*([\d.]+)x/;

export function runFfmpeg(job: FfmpegJob, o: FfmpegRunOptions): FfmpegRun {
  // stdoutLines bounds fluent-ffmpeg's stderr ring: a long run must not grow memory.
  const cmd = ffmpeg({ stdoutLines: 20 }).setFfmpegPath(o.ffmpegPath);
  for (const input of job.inputs) cmd.input(input.source).inputOptions(...input.options);
  // Quiet, but progress lines stay on (speed for the metrics).
  cmd.inputOptions("-hide_banner", "-loglevel", "warning", "-stats", "-nostdin");
  for (const output of job.outputs) cmd.output(output.target).outputOptions(...output.options);

  let requested = false;
  let finish!: (e: FfmpegExit) => void;
  const done = new Promise<FfmpegExit>((resolve) => (finish = resolve));
  let ended = false;
  const end = (error?: string) => {
    if (ended) return;
    ended = true;
    finish(error && !requested ? { requested, error } : { requested });
  };

  cmd.on("start", () => o.log.debug("ffmpeg started"));
  cmd.on("stderr", (line: string) => {
    const speed = SPEED.exec(line);
    if (speed) o.onSpeed?.(Number(speed[1]));
    else if (line.trim()) o.log.debug({ ffmpeg: line.slice(0, 500) }, "ffmpeg output");
  });
  cmd.on("error", (err: Error, _out, stderr) => {
    if (!requested) o.log.warn({ err: err.message, stderr: stderr?.slice(-2000) }, "ffmpeg failed");
    end(err.message);
  });
  cmd.on("end", () => end());
  cmd.run();

  let stopping: Promise<FfmpegExit> | undefined;
  const stop = () => {
    if (stopping) return stopping;
    requested = true;
    if (ended) return (stopping = done);
    cmd.kill("SIGINT");
    const timer = setTimeout(() => {
      o.log.warn("ffmpeg ignored SIGINT, killing it");
      cmd.kill("SIGKILL");
    }, o.stopTimeoutMs);
    stopping = done.finally(() => clearTimeout(timer));
    return stopping;
  };
  return { done, stop };
}
