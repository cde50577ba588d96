// On one machine the simulated audience stands for other people's devices: a new viewer never
// shares their CPU. It runs at a lower priority, so that start-up probes (a browser of their own)
// and the system under test get the CPU they ask for first, whichever transport is played.
import fs from "node:fs";
import os from "node:os";
import type { Browser } from "playwright-core";

/** nice 10: about a ninth of a normal process's share when both want the CPU. */
export const AUDIENCE_NICE = 10;
/**
 * The light peers' hosts, lower still: the Chromium viewers are the audience the report
 * measures (what they show is the latency and the stalls), and at equal weight nine hosts, a
 * group each, left one browser a tenth of the audience's CPU whenever the swarm was busy: in P2P
 * phases its media clock ran at 1.02 where it was asked 1.08, it dropped frames, and it sat
 * 1-2 s behind live (at normal priority: on target). nice 19 weighs 15 against a browser's 110.
 */
export const LIGHT_PEER_NICE = 19;

/** A process's autogroup ("/autogroup-123 nice 0" -> "/autogroup-123"), or undefined. */
const autogroupOf = (pid: number | "self") => {
  try {
    return fs.readFileSync(`/proc/${pid}/autogroup`, "utf8").split(" ")[0];
  } catch {
    return undefined; // no autogroups in this kernel, or exited meanwhile
  }
};

/**
 * Lowers every thread of a process (Linux sets a nice value per thread, and threads or processes
 * started later inherit their creator's); a process that already exited is no error. With the
 * kernel's autogroups on (Debian's default), a process that started a session of its own
 * (Chromium's browser and zygote do) is weighed as a group against all other groups, whatever
 * its threads' nice values, and Chromium raises some of its own processes' (-8): such a group
 * is lowered as a whole. Never the load test's own group, which holds the system under test.
 */
export function lowerPriority(pid: number | undefined, nice = AUDIENCE_NICE): void {
  if (pid === undefined) return;
  const group = autogroupOf(pid);
  if (group !== undefined && group !== autogroupOf("self")) {
    try {
      fs.writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    } catch {
      /* exited meanwhile */
    }
  }
  let threads: string[];
  try {
    threads = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // exited meanwhile
  }
  for (const tid of threads) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      /* exited meanwhile */
    }
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
 * and helpers; renderers fork later from the zygote and inherit it.
 */
export async function launchChromiumAtLowPriority(launch: () => Promise<Browser>): Promise<Browser> {
  // Loaded here: light-peer hosts import this module too, and need none of the browser harness.
  const { descendants } = await import("@peercast/origin/testing");
  const before = new Set(descendants(process.pid));
  const browser = await launch();
  for (const pid of descendants(process.pid)) if (!before.has(pid) && /chrom/i.test(commOf(pid))) lowerPriority(pid);
  return browser;
}
