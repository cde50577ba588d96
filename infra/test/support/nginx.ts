// Runs the shipped nginx config (infra/nginx/start-nginx.sh, as the edge image does) with
// Debian's nginx on loopback, everything under a temp prefix, in the foreground; stopped by PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@peercast/origin/testing";

export const INFRA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const START_NGINX = path.join(INFRA_DIR, "nginx", "start-nginx.sh");
/** Debian installs nginx in /usr/sbin, which a non-root PATH may lack. */
const PATH = `${process.env.PATH ?? ""}:/usr/sbin`;

export interface NginxHandle {
  proc: ChildProcess;
  pid: number;
  prefix: string;
  http: string;
  lines: string[];
  /** Access log lines: `addr "GET /uri HTTP/1.1" status bytes cache=HIT|MISS|... upstream=... rt=...`. */
  accessLog(): string[];
  stop(): Promise<void>;
}

export function nginxEnv(env: Record<string, string>): Record<string, string> {
  return { PATH, PEERCAST_NGINX_PREFIX: fs.mkdtempSync(path.join(os.tmpdir(), "peercast-nginx-")), PEERCAST_NGINX_WORKERS: "1", ...env };
}

/** `nginx -t` on the rendered config; status and output. */
export function checkNginx(env: Record<string, string>): { status: number | null; output: string } {
  const full: Record<string, string> = { ...nginxEnv(env), PEERCAST_NGINX_CHECK: "1" };
  // stdout a file, as in a container: nginx opens /dev/stdout (its default access log), which
  // fails on the socket Node would give it.
  const out = path.join(full.PEERCAST_NGINX_PREFIX!, "check.out");
  const fd = fs.openSync(out, "w");
  const r = spawnSync("sh", [START_NGINX], { env: full, stdio: ["ignore", fd, "pipe"], encoding: "utf8", timeout: 20_000 });
  fs.closeSync(fd);
  return { status: r.status, output: `${fs.readFileSync(out, "utf8")}${r.stderr}` };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
  });
}

/** Starts nginx; `port` is its PEERCAST_NGINX_LISTEN (plain HTTP). */
export async function startNginx(port: number, env: Record<string, string>): Promise<NginxHandle> {
  const full = nginxEnv({ PEERCAST_NGINX_LISTEN: `127.0.0.1:${port}`, ...env });
  const prefix = full.PEERCAST_NGINX_PREFIX!;
  full.PEERCAST_NGINX_ACCESS_LOG ??= path.join(prefix, "access.log");
  // The script execs nginx: this PID is nginx's master process.
  const proc = spawn("sh", [START_NGINX], { env: full, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  for (const s of [proc.stdout, proc.stderr]) s.on("data", (c: Buffer) => lines.push(...c.toString().split("\n").filter(Boolean)));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited: ${lines.join("\n")}`);
      return listening(port);
    },
    10_000,
    () => lines.join("\n"),
  );
  return {
    proc,
    pid: proc.pid!,
    prefix,
    http: `http://127.0.0.1:${port}`,
    lines,
    accessLog: () =>
      fs.existsSync(full.PEERCAST_NGINX_ACCESS_LOG!) ? fs.readFileSync(full.PEERCAST_NGINX_ACCESS_LOG!, "utf8").split("\n").filter(Boolean) : [],
    stop: async () => {
      // SIGQUIT: graceful; nginx's master ends its workers and exits.
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGQUIT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}
