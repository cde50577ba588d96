// The user-space switch (scripts/net-switch.py) as a child process, driven by JSON lines.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const SCRIPTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../scripts");

/** Debian's python3 where it is (the scripts use its standard library only), else the PATH's. */
export const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** One direction of one address's link, as the switch takes it. */
export interface LinkSpec {
  rateKbps: number;
  delayMs: number;
  jitterMs: number;
  lossPct: number;
  queueMs: number;
}

export interface LinkCounters extends LinkSpec {
  /** Frames and bytes (Ethernet frames, no FCS) that got onto the link, lost ones included. */
  frames: number;
  bytes: number;
  /** Of those, dropped by the link's random loss. */
  lost: number;
  /** Refused because the queue already held queueMs of traffic. */
  queueDrops: number;
  /** The longest a frame waited for the link. */
  maxQueueMs: number;
}

/** What the switch writes to net-counters.json every second (since start or the last reset). */
export interface NetCounters {
  at: number;
  seconds: number;
  ports: string[];
  /** By public address. */
  links: Record<string, { label: string; up: LinkCounters; down: LinkCounters }>;
  /** Frames no link shapes: ARP, and traffic between server-side addresses. */
  unshaped: { frames: number; bytes: number };
  switch: {
    /** Frames released from links. */
    releases: number;
    /** How much later than scheduled frames left the switch (its own falling behind). */
    latenessMaxMs: number;
    latenessP99Ms: number;
    floods: number;
    writeErrors: number;
    /** The switch process's CPU time (user + system). */
    cpuSeconds: number;
    pending: number;
  };
}

interface Pending {
  resolve: (answer: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

export class SwitchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = "";
  private exitCode: number | null | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly countersFile: string,
    seed: number,
    netnsPrefix: string,
    log?: (msg: string) => void,
  ) {
    this.child = spawn(PYTHON, [path.join(SCRIPTS_DIR, "net-switch.py"), "--counters", countersFile, "--seed", String(seed), "--netns-prefix", netnsPrefix], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.on("data", (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-4000);
      log?.(`network switch: ${c.toString().trimEnd()}`);
    });
    this.child.stdin.on("error", () => {}); // a dead switch is reported by `exited`
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      let msg: { id?: number; ok?: boolean; error?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      const p = this.pending.get(msg.id ?? -1);
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(`network switch: ${msg.error ?? "failed"}`));
    });
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        const err = new Error(`network switch exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        resolve();
      }),
    );
    this.pending.set(0, { resolve: () => {}, reject: () => {} }); // the "ready" line
  }

  /** Starts the switch and waits for it to say it is ready. */
  static async start(countersFile: string, seed: number, netnsPrefix: string, log?: (msg: string) => void): Promise<SwitchProcess> {
    const sw = new SwitchProcess(countersFile, seed, netnsPrefix, log);
    await new Promise<void>((resolve, reject) => {
      sw.pending.set(0, { resolve: () => resolve(), reject });
      sw.child.on("error", reject);
    });
    return sw;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  request(op: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.running) return Promise.reject(new Error(`network switch is not running${this.stderr ? `: ${this.stderr.trim()}` : ""}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ ...op, id }) + "\n");
    });
  }

  addPort(name: string): Promise<unknown> {
    return this.request({ op: "port", name });
  }

  addLink(address: string, label: string, up: LinkSpec, down: LinkSpec): Promise<unknown> {
    return this.request({ op: "link", address, label, up, down });
  }

  async counters(): Promise<NetCounters> {
    return (await this.request({ op: "counters" })).counters as NetCounters;
  }

  async reset(): Promise<void> {
    await this.request({ op: "reset" });
  }

  /** Ends the switch: it writes its counters, closes its TAPs and deletes its namespaces. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
