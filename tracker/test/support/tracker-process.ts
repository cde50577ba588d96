// Runs the real tracker (dist/src/main.js) on loopback against a real origin.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor, getJson } from "@peercast/origin/testing";
import type { StreamListResponse } from "@peercast/origin/wire";
import { infoHashOf, parseMasterVariants } from "../../src/info-hash.js";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/main.js");

export interface TrackerHandle {
  proc: ChildProcess;
  pid: number;
  url: string;
  /** The public port over HTTP: /healthz. */
  http: string;
  /** The metrics listener: /metrics and /stats.json. */
  metrics: string;
  lines: string[];
  stop(): Promise<number | null>;
}

export async function startTracker(originUrl: string, env: Record<string, string> = {}): Promise<TrackerHandle> {
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      PEERCAST_TRACKER_HOST: "127.0.0.1",
      PEERCAST_TRACKER_PORT: "0",
      PEERCAST_TRACKER_METRICS_PORT: "0",
      PEERCAST_ORIGIN_URL: originUrl,
      PEERCAST_TRACKER_POLL_MS: "500",
      PEERCAST_LOG_LEVEL: "debug",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  for (const s of [proc.stdout, proc.stderr]) s.on("data", (c: Buffer) => lines.push(...c.toString().split("\n").filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
  const ready = await waitFor(
    () =>
      lines
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; port?: number; metricsPort?: number };
          } catch {
            return {};
          }
        })
        .find((l) => l.msg === "tracker ready"),
    10_000,
    () => lines.join("\n"),
  ).catch((err: unknown) => {
    proc.kill("SIGTERM"); // never ready: no one else holds its handle to stop it
    throw err;
  });
  return {
    proc,
    pid: proc.pid!,
    url: `ws://127.0.0.1:${ready.port}`,
    http: `http://127.0.0.1:${ready.port}`,
    metrics: `http://127.0.0.1:${ready.metricsPort}`,
    lines,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** The 20-character info hashes of a live stream's renditions, as players announce them. */
export async function liveInfoHashes(originUrl: string, stream: string): Promise<string[]> {
  const list = await getJson<StreamListResponse>(`${originUrl}/api/streams`);
  const session = list.streams.find((s) => s.name === stream)?.session;
  if (!session) throw new Error(`${stream} is not live`);
  const master = await (await fetch(`${originUrl}${session.masterPlaylist}`)).text();
  return parseMasterVariants(master).map((v) => infoHashOf(session.swarmId, v));
}

/** Reads one counter of the tracker's /metrics (0 when absent); `metricsUrl` is a TrackerHandle's `metrics`. */
export async function metric(metricsUrl: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  return line ? Number(line.split(" ").at(-1)) : 0;
}
