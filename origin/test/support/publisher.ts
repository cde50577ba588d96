// A real ffmpeg publishing a generated stream over RTMP, as OBS would.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";

export interface PublisherOptions {
  rtmpPort: number;
  key: string;
  size?: string;
  /** Video encoder args; default H.264. */
  video?: string[];
  audio?: boolean;
  video_enabled?: boolean;
  /** Extra output args (e.g. a corrupting bitstream filter). */
  extra?: string[];
}

export interface Publisher {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function publish(o: PublisherOptions): Publisher {
  const size = o.size ?? "320x180";
  const args = ["-hide_banner", "-loglevel", "warning", "-nostdin"];
  if (o.video_enabled !== false) args.push("-re", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30`);
  if (o.audio !== false) args.push("-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000");
  if (o.video_enabled !== false) {
    args.push(...(o.video ?? ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p", "-b:v", "600k"]));
  }
  if (o.audio !== false) args.push("-c:a", "aac", "-b:a", "64k");
  args.push(...(o.extra ?? []), "-f", "flv", `rtmp://127.0.0.1:${o.rtmpPort}/live/${o.key}`);
  const proc = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    proc,
    output: () => err,
    exited,
    stop: async (signal = "SIGINT") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface ProbeStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
  profile?: string;
}

export function ffprobeStreams(file: string): ProbeStream[] {
  const r = spawnSync("ffprobe", ["-v", "error", "-show_streams", "-of", "json", file], { encoding: "utf8" });
  return (JSON.parse(r.stdout) as { streams: ProbeStream[] }).streams;
}

/** Presentation times (s) of the video keyframes in a file. */
export function keyframeTimes(file: string): number[] {
  const r = spawnSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", file], {
    encoding: "utf8",
  });
  return r.stdout
    .split("\n")
    .filter((l) => l.includes("K"))
    .map((l) => Number(l.split(",")[0]));
}
