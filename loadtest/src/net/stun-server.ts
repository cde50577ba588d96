// The STUN server players use on the emulated network: Debian's coturn, STUN only, as in the
// compose and Kubernetes deployments (infra/docker/stun.Dockerfile runs the same flags).
import { spawn, spawnSync } from "node:child_process";

export const STUN_PORT = 3478;

export interface StunServer {
  url: string;
  stop(): Promise<void>;
}

export async function startStun(address: string, port = STUN_PORT): Promise<StunServer> {
  const child = spawn(
    "turnserver",
    [
      "-n",
      "--stun-only",
      `--listening-ip=${address}`,
      `--listening-port=${port}`,
      "--no-cli",
      "--no-tls",
      "--no-dtls",
      "--no-software-attribute",
      "--log-file=stdout",
      "--simple-log",
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  for (const s of [child.stdout, child.stderr]) s.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  // Ready when it answers a binding request (coturn's own client).
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`coturn exited: ${output}`);
    const r = spawnSync("turnutils_stunclient", ["-p", String(port), address], { encoding: "utf8", timeout: 3000 });
    if (r.status === 0) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`coturn did not answer STUN on ${address}:${port}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url: `stun:${address}:${port}`, stop };
}
