// Shell steps for the emulated network's namespaces: run as scripts (one process per namespace
// rather than one per command: setting up dozens of namespaces stays quick on 2 cores).
import { execFile } from "node:child_process";
import fs from "node:fs";

const NETNS_DIR = "/run/netns";
/** Every namespace the emulator makes is named `pcast-<owner pid>-<instance>-...`. */
export const NETNS_PATTERN = /^pcast-(\d+)-\d+-/;

/** Runs `script` with `sh -e`, in namespace `netns` when given; rejects with its stderr. */
export function sh(script: string, netns?: string): Promise<string> {
  const [cmd, args] = netns ? ["ip", ["netns", "exec", netns, "sh", "-ec", script]] : ["sh", ["-ec", script]];
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`network setup failed${netns ? ` in ${netns}` : ""}: ${stderr.trim() || err.message}\n--- script ---\n${script}`));
      else resolve(stdout);
    }),
  );
}

/** Runs the tasks at most `limit` at a time. */
export async function inParallel<T>(tasks: (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

export function listNamespaces(): string[] {
  try {
    return fs.readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Deletes namespaces; one that is already gone is no error. */
export async function deleteNamespaces(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await sh(names.map((n) => `ip netns del ${n} 2>/dev/null || true`).join("\n"));
}

/**
 * Deletes the namespaces of emulators whose process is gone (killed before it could clean up;
 * /run/netns is shared by every process on the machine). Returns their names.
 */
export async function removeStaleNamespaces(): Promise<string[]> {
  const stale = listNamespaces().filter((n) => {
    const m = NETNS_PATTERN.exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  await deleteNamespaces(stale);
  return stale;
}
