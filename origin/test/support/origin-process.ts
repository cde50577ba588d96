// Runs the real origin (built dist/src/main.js) as a child process on loopback.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ORIGIN_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/main.js");

export interface OriginHandle {
  proc: ChildProcess;
  pid: number;
  http: string;
  /** The metrics listener (Prometheus' /metrics), apart from the viewers' port. */
  metrics: string;
  rtmpPort: number;
  dataDir: string;
  keysFile: string;
  /** Every line the origin printed, stdout and stderr. */
  lines: string[];
  logs(): { msg?: string; [k: string]: unknown }[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface OriginOptions {
  keys?: { key: string; stream: string }[];
  env?: Record<string, string>;
}

/** A small, fast ladder for tests: two renditions a 2-core CI machine transcodes easily. */
export const TEST_LADDER = "240p:426x240:400,180p:320x180:250";

export async function startOrigin(o: OriginOptions = {}): Promise<OriginHandle> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-test-"));
  const keysFile = path.join(dataDir, "keys.json");
  fs.writeFileSync(keysFile, JSON.stringify({ keys: o.keys ?? [] }));
  const proc = spawn(process.execPath, [ORIGIN_MAIN], {
    env: {
      PATH: process.env.PATH,
      PEERCAST_HTTP_HOST: "127.0.0.1",
      PEERCAST_HTTP_PORT: "0",
      PEERCAST_METRICS_PORT: "0",
      PEERCAST_RTMP_HOST: "127.0.0.1",
      PEERCAST_RTMP_PORT: "0",
      PEERCAST_DATA_DIR: dataDir,
      PEERCAST_LADDER: TEST_LADDER,
      PEERCAST_X264_PRESET: "ultrafast",
      PEERCAST_LOG_LEVEL: "debug",
      ...o.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = "";
    stream.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    });
  };
  collect(proc.stdout);
  collect(proc.stderr);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const logs = () =>
    lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg?: string; [k: string]: unknown }];
      } catch {
        return [];
      }
    });
  const ready = await waitFor(
    () => logs().find((l) => l.msg === "origin ready"),
    15_000,
    () => lines.join("\n"),
  ).catch((err: unknown) => {
    proc.kill("SIGTERM"); // never ready: no one else holds its handle to stop it (and its ffmpeg)
    throw err;
  });
  return {
    proc,
    pid: proc.pid!,
    http: `http://127.0.0.1:${ready.httpPort as number}`,
    metrics: `http://127.0.0.1:${ready.metricsPort as number}`,
    rtmpPort: ready.rtmpPort as number,
    dataDir,
    keysFile,
    lines,
    logs,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Polls `fn` until it returns a truthy value (or a promise of one). */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  explain: () => string = () => "",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms ${explain()}`.slice(0, 8000));
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** PIDs of every descendant of `pid` (children, grandchildren...). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** Every running ffmpeg whose command line mentions `marker` (e.g. a test's data dir). */
export function ffmpegProcessesWith(marker: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const c = cmdline(pid);
      return c.startsWith("ffmpeg") && c.includes(marker);
    });
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}
