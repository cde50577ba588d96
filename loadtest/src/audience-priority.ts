// On one machine the simulated audience stands for other people's devices: a new viewer never
// shares their CPU. It runs at a lower priority, so that start-up probes (a browser of their own)
// and the system under test get the CPU they ask for first, whichever transport is played.
import fs from "node:fs";
import os from "node:os";
import type { Browser } from "playwright-core";
import { descendants } from "@peercast/origin/testing";

/** nice 10: about a ninth of a normal process's share when both want the CPU. */
export const AUDIENCE_NICE = 10;

/** Lowers one process's priority; a process that already exited is no error. */
export function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, AUDIENCE_NICE);
  } catch {
    /* exited meanwhile */
  }
}

const commOf = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return ""; // exited meanwhile
  }
};

/**
 * Launches a Chromium and lowers the priority of every process of it: the browser, its zygote
 * and renderers (which fork later from the zygote, and inherit it).
 */
export async function launchChromiumAtLowPriority(launch: () => Promise<Browser>): Promise<Browser> {
  const before = new Set(descendants(process.pid));
  const browser = await launch();
  for (const pid of descendants(process.pid)) if (!before.has(pid) && /chrom/i.test(commOf(pid))) lowerPriority(pid);
  return browser;
}
