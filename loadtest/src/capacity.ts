// How many playing Chromium viewers this machine sustains: viewers (P2P, holding the load
// test's rendition) join one at a time; each step is measured after it settles. The largest
// count with host CPU under 80 % is the capacity (stalls are recorded beside it); load tests
// never run more.
import fs from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { Audience } from "./audience.js";
import { formatLoad, machineInfo, type HostLoad, type MachineInfo } from "./host-load.js";
import type { Target } from "./target.js";

export const CAPACITY_CPU_PCT = 80;
const SETTLE_MS = 10_000;
const MEASURE_MS = 20_000;
const MAX_VIEWERS = 24;
const FILE = "capacity.json";

interface CapacityFile {
  measuredAt: string;
  machine: MachineInfo;
  rendition: string;
  cpuLimitPct: number;
  max: number;
  steps: { viewers: number; hostCpuPct: number; byGroupPct: Record<string, number>; stalls: number; ok: boolean }[];
}

/** The measured capacity, when it was measured on a machine like this one. */
export function readCapacity(resultsDir: string, machine: MachineInfo, rendition: string): { max: number | null; source: string } {
  const file = path.join(resultsDir, FILE);
  try {
    const c = JSON.parse(fs.readFileSync(file, "utf8")) as CapacityFile;
    if (c.machine.cpuModel !== machine.cpuModel || c.machine.cores !== machine.cores) return { max: null, source: `${file} is from another machine` };
    if (c.rendition !== rendition) return { max: null, source: `${file} was measured on ${c.rendition}, not ${rendition}` };
    return { max: c.max, source: `measured ${c.measuredAt.slice(0, 10)}, host CPU under ${c.cpuLimitPct} %` };
  } catch {
    return { max: null, source: `no ${file}` };
  }
}

export async function findCapacity(o: {
  browser: Browser;
  target: Target;
  rendition: string;
  load: HostLoad;
  log: (line: string) => void;
  resultsDir: string;
  signal: AbortSignal;
}): Promise<string> {
  const audience = new Audience({
    browser: o.browser,
    originUrl: o.target.originUrl,
    stream: o.target.stream,
    rendition: o.rendition,
    renditions: o.target.renditions,
    transport: "p2p",
    sampleMs: 60_000,
  });
  const steps: CapacityFile["steps"] = [];
  try {
    for (let n = 1; n <= MAX_VIEWERS && !o.signal.aborted; n++) {
      await audience.addViewer();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const stalls = async () => (await audience.snapshot()).members.reduce((sum, m) => sum + m.stats.stalls, 0);
      const before = await stalls();
      const end = o.load.phase();
      await new Promise((r) => setTimeout(r, MEASURE_MS));
      const cpu = end();
      const stalled = (await stalls()) - before;
      const ok = cpu.avgPct < CAPACITY_CPU_PCT;
      steps.push({ viewers: n, hostCpuPct: cpu.avgPct, byGroupPct: cpu.byGroupPct, stalls: stalled, ok });
      o.log(`capacity: ${n} viewer(s): host CPU ${formatLoad(cpu)}, ${stalled} stall(s)${ok ? "" : " -> over the limit"}`);
      if (!ok) break;
    }
  } finally {
    await audience.close();
  }
  const max = steps.filter((s) => s.ok).at(-1)?.viewers ?? 0;
  const file = path.join(o.resultsDir, FILE);
  fs.mkdirSync(o.resultsDir, { recursive: true });
  const content: CapacityFile = {
    measuredAt: new Date().toISOString(),
    machine: machineInfo(),
    rendition: o.rendition,
    cpuLimitPct: CAPACITY_CPU_PCT,
    max,
    steps,
  };
  fs.writeFileSync(file, JSON.stringify(content, null, 2) + "\n");
  o.log(`capacity: ${max} playing Chromium viewer(s) of ${o.rendition} (host CPU under ${CAPACITY_CPU_PCT} %)`);
  return file;
}
