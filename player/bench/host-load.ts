// The machine the figures come from, and how busy it was: host CPU from /proc/stat (all
// cores, everything running, not only our processes), sampled every second.
import fs from "node:fs";
import os from "node:os";

/** Above this average a phase's timings say more about the machine than about the player. */
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

export type ProcessGroup = "chromium" | "ffmpeg" | "origin" | "tracker" | "bench" | "other";
const TICKS_PER_SEC = 100; // USER_HZ on Linux

function groupOf(pid: number, comm: string): ProcessGroup {
  if (/chrom/i.test(comm)) return "chromium";
  if (comm === "ffmpeg") return "ffmpeg";
  if (comm !== "node" && comm !== "MainThread") return "other";
  let cmd = "";
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    /* exited meanwhile */
  }
  if (cmd.includes("origin/dist")) return "origin";
  if (cmd.includes("tracker/dist")) return "tracker";
  return pid === process.pid ? "bench" : "other";
}

/** utime + stime of every process now running, and its group (cached per pid). */
function processTicks(groups: Map<number, ProcessGroup>): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(pid, Number(f[11]) + Number(f[12]));
      if (!groups.has(pid)) groups.set(pid, groupOf(pid, stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
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
  private lastTicks = processTicks(this.groups);
  /** CPU ticks per group since the start, from per-process differences each second. */
  private readonly groupTicks = new Map<ProcessGroup, number>();
  private readonly timer = setInterval(() => {
    const now = cpuTimes();
    this.perSecond.push(pct(this.last, now));
    this.last = now;
    const ticks = processTicks(this.groups);
    // A process that starts and ends between two samples is missed; one that ends loses under 1 s.
    for (const [pid, t] of ticks) {
      const group = this.groups.get(pid)!;
      this.groupTicks.set(group, (this.groupTicks.get(group) ?? 0) + t - (this.lastTicks.get(pid) ?? 0));
    }
    for (const pid of this.groups.keys()) if (!ticks.has(pid)) this.groups.delete(pid);
    this.lastTicks = ticks;
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
