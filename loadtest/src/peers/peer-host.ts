// The load test's side of a light-peer host process.
import { fork, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LIGHT_PEER_NICE, lowerPriority } from "../audience-priority.js";
import type { LightPeerOptions } from "./light-peer.js";
import { NET_ENV, type PeerHostReply, type PeerHostRequest, type PeerSnapshot } from "./host-protocol.js";

const HOST_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "host.js");

export class PeerHost {
  private readonly child: ChildProcess;
  private nextRequest = 1;
  private readonly waiting = new Map<number, (r: PeerHostReply) => void>();
  private readonly exited: Promise<void>;

  /**
   * With `netns`, the host runs in that network namespace (an emulated access link of its own).
   * A session of its own (detached), lowered as a whole below the audience's browsers: with the
   * kernel's autogroups, a host left in the load test's group outweighed every browser (each a
   * group at nice 10), and in P2P phases, where the light peers work hardest, the Chromium
   * viewers fell 1-3 s behind live while the light peers did not (see LIGHT_PEER_NICE). It
   * exits when the load test's IPC channel closes, so it never outlives the run.
   */
  constructor(private readonly netns?: string) {
    const options = { stdio: ["ignore", "inherit", "inherit", "ipc"] as ("ignore" | "inherit" | "ipc")[], detached: true };
    this.child = netns
      ? // The IPC channel is a file descriptor: it survives `ip netns exec`'s exec.
        spawn("ip", ["netns", "exec", netns, process.execPath, HOST_MAIN], { ...options, env: { ...process.env, [NET_ENV]: "1" } })
      : fork(HOST_MAIN, [], options);
    lowerPriority(this.child.pid, LIGHT_PEER_NICE);
    this.child.on("message", (r: PeerHostReply) => {
      this.waiting.get(r.requestId)?.(r);
      this.waiting.delete(r.requestId);
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  add(options: LightPeerOptions): void {
    this.send({ cmd: "add", options });
  }

  remove(id: string): void {
    this.send({ cmd: "remove", id });
  }

  uploadsOff(): void {
    this.send({ cmd: "uploads-off" });
  }

  leaveAll(): void {
    this.send({ cmd: "leave-all" });
  }

  /**
   * Every peer's counters, those that left included; rejects if the host does not answer. The
   * hosts run at the lowest priority (see LIGHT_PEER_NICE): on a saturated machine one may wait
   * seconds for the CPU, so the wait is long, and the error says what the process was doing.
   */
  snapshot(timeoutMs = 30_000): Promise<{ peers: PeerSnapshot[]; memoryBytes: number; abandonedHttpBytes: number }> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(
          new Error(
            `light-peer host ${this.child.pid}${this.netns ? ` in ${this.netns}` : ""} did not answer in ${timeoutMs / 1000} s: ${processState(this.child)}`,
          ),
        );
      }, timeoutMs);
      this.waiting.set(requestId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.send({ cmd: "snapshot", requestId });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.send({ cmd: "stop" });
    const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(killer);
  }

  private send(m: PeerHostRequest): void {
    if (this.child.connected) this.child.send(m);
  }
}

/** A child's state for an error message: exited how, or its scheduler state and CPU time so far. */
function processState(child: ChildProcess): string {
  if (child.exitCode !== null || child.signalCode !== null) return `exited (${child.exitCode ?? child.signalCode})`;
  try {
    // Fields after the command's closing parenthesis: state is the 1st, utime and stime the 12th and 13th.
    const fields = fs.readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const cpuSec = (Number(fields[11]) + Number(fields[12])) / 100;
    return `running (state ${fields[0]}, ${cpuSec} s of CPU so far)`;
  } catch {
    return "gone";
  }
}
