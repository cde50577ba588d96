// `npm run bench` (origin): transcode speed of the default ladder for a noisy 720p30 source,
// and the origin's CPU per stream against the same ffmpeg command run bare, side by side.
// Writes bench/results/transcode.json and prints a summary.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.js";
import { buildTranscodeJob, jobToArgv } from "../src/transcode/ffmpeg-args.js";
import { freezeLadder } from "../src/transcode/ladder.js";
import { buildTestSourceJob } from "../src/testsource/test-source.js";
import { descendants, startOrigin, waitFor } from "../test/support/origin-process.js";
import { waitLive } from "../test/support/hls.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.resolve(here, "../../bench/results");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-bench-"));
const source = path.join(work, "noisy-720p30.flv");
const TICK = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by a process and its descendants still alive. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]); // utime + stime
    } catch {
      /* gone */
    }
  }
  return ticks / TICK;
}

/** Runs a command, sampling its CPU until it exits; returns wall and CPU seconds. */
async function measure(cmd: string, args: string[]): Promise<{ wallSec: number; cpuSec: number }> {
  const start = Date.now();
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  let cpu = 0;
  const timer = setInterval(() => (cpu = Math.max(cpu, cpuSeconds([child.pid!]))), 100);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} failed: ${err}`);
  return { wallSec: (Date.now() - start) / 1000, cpuSec: cpu };
}

function makeSource(): void {
  // A camera-like picture: moving pattern plus temporal grain, far harder than a flat pattern.
  const job = buildTestSourceJob({ url: source, width: 1280, height: 720, noise: true });
  const argv = jobToArgv(job).filter((a) => a !== "-re");
  const out = argv.pop()!;
  const r = spawnSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...argv.slice(0, -2), "-t", String(SECONDS), "-b:v", "6000k", "-f", "flv", out], {
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("could not make the source");
}

function ladderArgs(outDir: string): string[] {
  const config = loadConfig({});
  const renditions = freezeLadder(config.transcode.ladder, { width: 1280, height: 720, fps: 30 }, config.transcode);
  const job = buildTranscodeJob({
    renditions,
    segmentSec: config.hls.segmentSec,
    startNumber: 0,
    sessionDir: outDir,
    runId: 1,
    preset: config.transcode.preset,
    sourceHasAudio: true,
    copySource: false,
    input: new PassThrough(), // bareArgs puts the file in its place
  });
  for (const r of renditions) fs.mkdirSync(path.join(outDir, r.name), { recursive: true });
  return jobToArgv(job);
}

/** The transcoder reading the file: as fast as it can (speed), or at real time (CPU cost). */
function bareArgs(outDir: string, realtime: boolean): string[] {
  const argv = ladderArgs(outDir);
  const i = argv.indexOf("pipe:0");
  argv[i] = source;
  return ["-hide_banner", "-loglevel", "error", "-y", ...(realtime ? ["-re"] : []), ...argv];
}

async function originCpu(): Promise<{ wallSec: number; cpuSec: number; segments: number }> {
  const key = "bench-key-0000001";
  const origin = await startOrigin({
    keys: [{ key, stream: "bench" }],
    env: {
      PEERCAST_LADDER: loadConfig({})
        .transcode.ladder.map((r) => `${r.name}:${r.width}x${r.height}:${r.videoBitrateKbps}`)
        .join(","),
      PEERCAST_X264_PRESET: "veryfast",
      PEERCAST_LOG_LEVEL: "info",
    },
  });
  try {
    // The publisher only copies the file's packets: its CPU is not the origin's.
    const publisher = spawn(
      "ffmpeg",
      ["-hide_banner", "-loglevel", "error", "-re", "-i", source, "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${origin.rtmpPort}/live/${key}`],
      { stdio: "ignore" },
    );
    const pids = () => [origin.pid, ...descendants(origin.pid)];
    const start = Date.now();
    const before = cpuSeconds([origin.pid]);
    let cpu = 0;
    const timer = setInterval(() => (cpu = Math.max(cpu, cpuSeconds(pids()) - before)), 100);
    await waitLive(origin.http, "bench", 30_000);
    await new Promise<void>((resolve) => publisher.on("exit", () => resolve()));
    // Let the transcoder finish the file's tail, as the bare run does.
    await waitFor(() => pids().length === 1, 20_000);
    clearInterval(timer);
    const metrics = await (await fetch(`${origin.metrics}/metrics`)).text();
    const segments = Number(/peercast_segments_produced_total\{stream="bench",rendition="720p"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    return { wallSec: (Date.now() - start) / 1000, cpuSec: cpu, segments };
  } finally {
    await origin.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ROUNDS = 3;

async function main(): Promise<void> {
  fs.mkdirSync(resultsDir, { recursive: true });
  console.log(`making a noisy 720p30 source of ${SECONDS} s...`);
  makeSource();
  const speeds: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const fast = await measure("ffmpeg", bareArgs(path.join(work, `fast-${i}`), false));
    speeds.push(SECONDS / fast.wallSec);
    console.log(`transcode speed, run ${i + 1}: ${speeds.at(-1)!.toFixed(2)}x real time`);
  }
  // Bare and origin runs interleaved, so drift in the machine's load hits both alike.
  const pairs: { bare: number; origin: number; bareSegments: number; originSegments: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dir = path.join(work, `bare-${i}`);
    const bare = await measure("ffmpeg", bareArgs(dir, true));
    const origin = await originCpu();
    const bareSegments = fs.readdirSync(path.join(dir, "720p")).filter((f) => f.endsWith(".ts")).length;
    pairs.push({ bare: bare.cpuSec, origin: origin.cpuSec, bareSegments, originSegments: origin.segments });
    console.log(`CPU at real time, run ${i + 1}: bare ${bare.cpuSec.toFixed(1)} s, origin ${origin.cpuSec.toFixed(1)} s`);
  }
  const speed = median(speeds);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    source: { seconds: SECONDS, size: "1280x720", fps: 30, picture: "testsrc2 + temporal noise, 6 Mbit/s H.264" },
    ladder: loadConfig({}).transcode.ladder.map((r) => r.name),
    transcodeSpeed: { median: Number(speed.toFixed(3)), runs: speeds.map((x) => Number(x.toFixed(3))), target: 1.1, pass: speed >= 1.1 },
    cpuPerStream: {
      ratioMedian: Number(median(pairs.map((p) => p.origin / p.bare)).toFixed(3)),
      runs: pairs.map((p) => ({ ...p, bare: Number(p.bare.toFixed(2)), origin: Number(p.origin.toFixed(2)) })),
      note: "CPU seconds; origin = node process + its ffmpeg children, bare = the same ffmpeg command on the file; same source at real time; segments = 720p segments each produced",
    },
  };
  fs.writeFileSync(path.join(resultsDir, "transcode.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
  fs.rmSync(work, { recursive: true, force: true });
}

void main();
