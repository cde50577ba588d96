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

const pct = (a: CpuTimes, b: CpuTimes) => (b.total > a.total ? Math.round((1000 * (b.busy - a.busy)) / (b.total - a.total)) / 10 : 0);

export interface PhaseLoad {
  /** Average host CPU over the phase, % of all cores. */
  avgPct: number;
  /** Busiest one-second sample. */
  peakPct: number;
  /** Share of one-second samples above HIGH_CPU_PCT. */
  secondsOverPct: number;
  high: boolean;
}

/** Samples host CPU every second; `phase()` marks a start, its function the end. */
export class HostLoad {
  private last = cpuTimes();
  private readonly perSecond: number[] = [];
  private readonly timer = setInterval(() => {
    const now = cpuTimes();
    this.perSecond.push(pct(this.last, now));
    this.last = now;
  }, 1000);

  phase(): () => PhaseLoad {
    const start = cpuTimes();
    const from = this.perSecond.length;
    return () => {
      const seconds = this.perSecond.slice(from);
      const avgPct = pct(start, cpuTimes());
      const over = seconds.filter((p) => p > HIGH_CPU_PCT).length;
      return {
        avgPct,
        peakPct: Math.max(avgPct, ...seconds),
        secondsOverPct: seconds.length ? Math.round((100 * over) / seconds.length) / 100 : 0,
        high: avgPct > HIGH_CPU_PCT,
      };
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
