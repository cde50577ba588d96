// A Docker Engine of the test's own (Debian's docker.io): private data root, exec root, socket
// and pidfile, its bridge and address pools in the documentation ranges, run inside the tests'
// network namespace (its iptables rules and bridges stay there) and stopped by the PID it started.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

/** Images and build cache are kept here between runs (the base image is imported once). */
export const DOCKER_ROOT = process.env.PEERCAST_DOCKER_ROOT ?? "/var/lib/peercast-docker";
/** Debian's docker CLI first: another one on PATH (a newer one builds only with buildx). */
export const DOCKER_PATH = "/usr/bin:/usr/sbin:/bin:/sbin";
/** The bridge dockerd creates for containers outside compose networks (addressed with --bip). */
const BRIDGE = "docker0";

export interface DockerHandle {
  /** DOCKER_HOST for clients. */
  host: string;
  pid: number;
  /** The Engine API over the socket; rejects on a status >= 400. */
  api<T = unknown>(method: string, apiPath: string): Promise<T>;
  /** Runs Debian's docker CLI against this daemon. */
  cli(args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  log(): string;
  stop(): Promise<void>;
}

const TEST_NETS = [/^192\.0\.2\./, /^198\.51\.100\./, /^203\.0\.113\./];

/**
 * Throws unless this process is in a network namespace of its own: dockerd rewrites the
 * namespace's iptables and adds bridges, which must never touch the machine's own network.
 * Isolated: no default route, and no address but loopback, link-local or the test ranges.
 */
export function assertIsolatedNetwork(): void {
  const defaults = fs
    .readFileSync("/proc/net/route", "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.split(/\s+/)[1] === "00000000");
  const outside = Object.entries(os.networkInterfaces()).flatMap(([name, addrs]) =>
    (addrs ?? []).filter((a) => !a.internal && !a.address.startsWith("fe80:") && !TEST_NETS.some((r) => r.test(a.address))).map((a) => `${name} ${a.address}`),
  );
  if (defaults.length > 0 || outside.length > 0) {
    throw new Error(
      `the compose test runs its own dockerd (iptables, bridges): run it in a network namespace of its own, as npm test does (unshare -n); here: ${[...defaults.map(() => "a default route"), ...outside].join(", ")}`,
    );
  }
}

/** PIDs of dockerd processes on `root` (one left by a run killed before it could stop its own). */
function dockerdsOn(root: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return path.basename(argv[0] ?? "") === "dockerd" && argv.includes(`--data-root=${root}`);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

export async function startDockerd(o: { bip: string; pool: string }): Promise<DockerHandle> {
  // Two daemons on one data root corrupt it; one left over is not this run's to kill.
  const running = dockerdsOn(DOCKER_ROOT);
  if (running.length > 0) throw new Error(`a dockerd already runs on ${DOCKER_ROOT} (pid ${running.join(", ")}): stop it, or set PEERCAST_DOCKER_ROOT`);
  const run = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-dockerd-"));
  const socket = path.join(run, "docker.sock");
  const logFile = path.join(run, "dockerd.log");
  fs.mkdirSync(DOCKER_ROOT, { recursive: true });
  const args = [
    `--data-root=${DOCKER_ROOT}`,
    `--exec-root=${path.join(run, "exec")}`,
    `--pidfile=${path.join(run, "dockerd.pid")}`,
    `--host=unix://${socket}`,
    `--bip=${o.bip}`,
    `--default-address-pool=base=${o.pool},size=28`,
    // Names of its own in a containerd it might share with a system dockerd.
    "--containerd-namespace=peercast-test",
    "--containerd-plugins-namespace=peercast-test-plugins",
  ];
  const out = fs.openSync(logFile, "w");
  const proc: ChildProcess = spawn("dockerd", args, { env: { PATH: DOCKER_PATH }, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const log = () => fs.readFileSync(logFile, "utf8");

  const api = <T>(method: string, apiPath: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const req = http.request({ socketPath: socket, path: apiPath, method }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c));
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${apiPath}: ${res.statusCode} ${body}`));
          else resolve((body && res.headers["content-type"]?.includes("json") ? JSON.parse(body) : body) as T);
        });
      });
      req.on("error", reject);
      req.end();
    });

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM"); // dockerd stops its containers and its containerd, and unmounts
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    // The default bridge outlives dockerd; it is ours (this namespace is the test's).
    spawnSync("ip", ["link", "delete", BRIDGE], { stdio: "ignore" });
    fs.rmSync(run, { recursive: true, force: true });
  };

  const end = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`dockerd exited (${proc.exitCode}): ${log().slice(-3000)}`);
    if (
      await api("GET", "/_ping").then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > end) {
      await stop();
      throw new Error(`dockerd did not answer within 60 s: ${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const host = `unix://${socket}`;
  return {
    host,
    pid: proc.pid!,
    api,
    cli: (cliArgs, timeoutMs = 120_000) => {
      const r = spawnSync("docker", cliArgs, {
        env: { PATH: DOCKER_PATH, HOME: run, DOCKER_HOST: host },
        encoding: "utf8",
        timeout: timeoutMs,
        maxBuffer: 64 << 20,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    log,
    stop,
  };
}

/** Imports a root filesystem tarball as `image` unless the daemon has it already. */
export async function ensureImage(docker: DockerHandle, image: string, tarball: string): Promise<"present" | "imported"> {
  if (
    await docker.api("GET", `/images/${encodeURIComponent(image)}/json`).then(
      () => true,
      () => false,
    )
  )
    return "present";
  if (!fs.existsSync(tarball)) {
    throw new Error(`no base root filesystem at ${tarball}: npm test builds it (scripts/bootstrap.mjs, debootstrap, as root, with the network)`);
  }
  // An imported image has no environment: the PATH every Debian image has.
  const r = docker.cli(["import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", tarball, image], 300_000);
  if (r.status !== 0) throw new Error(`docker import ${tarball}: ${r.stderr}`);
  return "imported";
}
