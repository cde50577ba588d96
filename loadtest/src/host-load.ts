// The machine the figures come from, and how busy it was: host CPU from /proc/stat (all
// cores, everything running, not only our processes), sampled every second.
import fs from "node:fs";
import os from "node:os";

/** Above this average a phase's timings say more about the machine than about Peercast. */
export const HIGH_CPU_PCT = 85;

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGiB: number;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  // First line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (USER_HZ).
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // guest time is already inside user/nice: count the first eight fields only.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3]! + f[4]!;
  return { busy: total - idle, total };
}

/** The load test's own processes by kind, and everything else on the host (other users' work). */
export type ProcessGroup = "chromium" | "ffmpeg" | "origin" | "tracker" | "light-peers" | "net-emulator" | "loadtest" | "loadtest-other" | "outside-loadtest";
const TICKS_PER_SEC = 100; // USER_HZ on Linux

function groupOf(pid: number, comm: string): Exclude<ProcessGroup, "outside-loadtest"> {
  if (pid === process.pid) return "loadtest";
  if (/chrom/i.test(comm)) return "chromium";
  if (comm === "ffmpeg") return "ffmpeg";
  let cmd = "";
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    /* exited meanwhile */
  }
  if (cmd.includes("origin/dist")) return "origin";
  if (cmd.includes("tracker/dist")) return "tracker";
  if (cmd.includes("peers/host.js")) return "light-peers";
  // The emulated links' switch and the STUN server on the server side (--net).
  if (cmd.includes("net-switch.py") || comm === "turnserver") return "net-emulator";
  return "loadtest-other";
}

interface ProcessSample {
  ticks: number;
  ppid: number;
  comm: string;
}

/** utime + stime and parent of every process now running. */
function processTable(): Map<number, ProcessSample> {
  const out = new Map<number, ProcessSample>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(entry), { ticks: Number(f[11]) + Number(f[12]), ppid: Number(f[1]), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Each process's group: ours if the load test is among its ancestors (cached per pid). */
function classify(table: Map<number, ProcessSample>, groups: Map<number, ProcessGroup>): void {
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      const next = table.get(p)?.ppid;
      if (next === undefined) return false;
      p = next;
    }
    return false;
  };
  for (const [pid, proc] of table) if (!groups.has(pid)) groups.set(pid, ours(pid) ? groupOf(pid, proc.comm) : "outside-loadtest");
}

const pct = (a: CpuTimes, b: CpuTimes) => (b.total > a.total ? Math.round((1000 * (b.busy - a.busy)) / (b.total - a.total)) / 10 : 0);

export interface PhaseLoad {
  /** Average host CPU over the phase, % of all cores. */
  avgPct: number;
  /** Busiest one-second sample. */
  peakPct: number;
  /** Share of one-second samples above HIGH_CPU_PCT. */
  secondsOverPct: number;
  high: boolean;
  /** Average CPU of each group of processes, % of the whole machine (all cores). */
  byGroupPct: Partial<Record<ProcessGroup, number>>;
}

/** Samples host CPU every second; `phase()` marks a start, its function the end. */
export class HostLoad {
  private last = cpuTimes();
  private readonly perSecond: number[] = [];
  private readonly groups = new Map<number, ProcessGroup>();
  private lastTable = processTable();
  /** CPU ticks per group since the start, from per-process differences each second. */
  private readonly groupTicks = new Map<ProcessGroup, number>();
  private readonly timer = setInterval(() => {
    const now = cpuTimes();
    this.perSecond.push(pct(this.last, now));
    this.last = now;
    const table = processTable();
    classify(table, this.groups);
    // A process that starts and ends between two samples is missed; one that ends loses under 1 s.
    for (const [pid, proc] of table) {
      const group = this.groups.get(pid)!;
      this.groupTicks.set(group, (this.groupTicks.get(group) ?? 0) + proc.ticks - (this.lastTable.get(pid)?.ticks ?? 0));
    }
    for (const pid of this.groups.keys()) if (!table.has(pid)) this.groups.delete(pid);
    this.lastTable = table;
  }, 1000);

  phase(): () => PhaseLoad {
    const start = cpuTimes();
    const startedAt = Date.now();
    const from = this.perSecond.length;
    const groups0 = new Map(this.groupTicks);
    return () => {
      const capacity = ((Date.now() - startedAt) / 1000) * TICKS_PER_SEC * os.cpus().length;
      const byGroupPct: PhaseLoad["byGroupPct"] = {};
      for (const [group, t] of this.groupTicks) {
        const share = Math.round((1000 * (t - (groups0.get(group) ?? 0))) / capacity) / 10;
        if (share > 0) byGroupPct[group] = share;
      }
      const seconds = this.perSecond.slice(from);
      const avgPct = pct(start, cpuTimes());
      const over = seconds.filter((p) => p > HIGH_CPU_PCT).length;
      return {
        avgPct,
        peakPct: Math.max(avgPct, ...seconds),
        secondsOverPct: seconds.length ? Math.round((100 * over) / seconds.length) / 100 : 0,
        high: avgPct > HIGH_CPU_PCT,
        byGroupPct,
      };
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** "99.1 % (chromium 61.2, ffmpeg 21.0, origin 9.8, ...)" */
export function formatLoad(l: PhaseLoad): string {
  const groups = Object.entries(l.byGroupPct)
    .sort((a, b) => b[1] - a[1])
    .map(([g, p]) => `${g} ${p}`)
    .join(", ");
  return `${l.avgPct} %${l.high ? " (HIGH)" : ""} [${groups}]`;
}
