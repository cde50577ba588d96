// `npm start`'s supervisor (scripts/supervisor.mjs, plain Node, imported by scripts/bootstrap.mjs)
// run on two tiny Node services: a crashed one comes back with backoff and the log says so, the
// other is untouched; SIGTERM to the launcher ends everything, grandchildren included.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { waitFor } from "@peercast/origin/testing";
import { REPO_DIR } from "./support/files.js";

interface Backoff {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}
interface Supervisor {
  start(o: { name: string; args: string[]; readyMsg: string; env?: NodeJS.ProcessEnv }): { ready: Promise<{ pid: number }> };
  stop(signal?: string): Promise<number>;
  stopped: Promise<number>;
}
type SupervisorModule = {
  createSupervisor(o: { log: (line: string) => void; out?: NodeJS.WritableStream; format?: (line: string) => string; backoff?: Backoff }): Supervisor;
  DEFAULT_BACKOFF: Backoff;
};

const SUPERVISOR = pathToFileURL(path.join(REPO_DIR, "scripts/supervisor.mjs")).href;
const load = async () => (await import(SUPERVISOR)) as SupervisorModule;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-supervisor-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
/**
 * A service: starts a grandchild (as the origin starts ffmpeg), prints its ready line with both
 * PIDs, stops on SIGTERM/SIGINT. With a counter file and lifetimes, run N exits 3 the Nth lifetime
 * after its ready line; a lifetime "S+L" first waits S ms before the ready line (a slow start).
 */
const SERVICE = path.join(dir, "service.mjs");
fs.writeFileSync(
  SERVICE,
  `import { spawn } from "node:child_process";
import fs from "node:fs";
const [name, counter, lifetimes] = process.argv.slice(2);
const grandchild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
const stop = () => (grandchild.kill(), process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setInterval(() => {}, 1000);
const ready = () => console.log(JSON.stringify({ msg: name + " ready", pid: process.pid, grandchild: grandchild.pid }));
if (!counter) ready();
else {
  const run = fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8")) : 0;
  fs.writeFileSync(counter, String(run + 1));
  const [startMs, lifetime] = ("0+" + (lifetimes.split(",")[run] ?? "0")).split("+").slice(-2).map(Number);
  setTimeout(() => (ready(), setTimeout(() => (grandchild.kill(), process.exit(3)), lifetime)), startMs);
}
`,
);
/** The launcher as bootstrap.mjs makes it: a supervisor with its defaults, and stopOnSignals. */
const LAUNCHER = path.join(dir, "launcher.mjs");
fs.writeFileSync(
  LAUNCHER,
  `import { createSupervisor, stopOnSignals } from ${JSON.stringify(SUPERVISOR)};
const supervisor = createSupervisor({ log: (line) => process.stderr.write("[peercast] " + line + "\\n") });
stopOnSignals(supervisor);
for (const name of ["a", "b"]) supervisor.start({ name, args: [${JSON.stringify(SERVICE)}, name], readyMsg: name + " ready" });
`,
);

/** Gone: no such process, or a zombie (exited, not yet reaped by whoever inherited it). */
function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

interface Ready {
  msg: string;
  pid: number;
  grandchild: number;
}
const readies = (out: string[], name: string): Ready[] =>
  out
    .join("")
    .split("\n")
    .filter((l) => l.includes(`"msg":"${name} ready"`))
    .map((l) => JSON.parse(l) as Ready);

test("a service killed with SIGKILL comes back (1 s, then 2 s), the other untouched; SIGTERM to the launcher ends all", async () => {
  const launcher = spawn(process.execPath, [LAUNCHER], { stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const err: string[] = [];
  launcher.stdout.on("data", (c: Buffer) => out.push(c.toString()));
  launcher.stderr.on("data", (c: Buffer) => err.push(c.toString()));
  const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
  const explain = () => `stdout:\n${out.join("")}\nstderr:\n${err.join("")}`;
  const all: number[] = [];
  try {
    const [a1] = await waitFor(() => readies(out, "a").length === 1 && readies(out, "a"), 10_000, explain);
    const [b1] = await waitFor(() => readies(out, "b").length === 1 && readies(out, "b"), 10_000, explain);
    all.push(a1!.pid, a1!.grandchild, b1!.pid, b1!.grandchild);

    process.kill(a1!.pid, "SIGKILL");
    await waitFor(() => /\[peercast\] a exited unexpectedly \(signal SIGKILL\); restarting it in 1 s\n/.test(err.join("")), 5000, explain);
    const a2 = await waitFor(() => readies(out, "a")[1], 10_000, explain);
    await waitFor(() => /\[peercast\] a is back\n/.test(err.join("")), 5000, explain);
    all.push(a2.pid, a2.grandchild);
    assert.notEqual(a2.pid, a1!.pid);
    // What the killed run had started went with it (its process group), not left behind.
    await waitFor(
      () => gone(a1!.grandchild),
      5000,
      () => `grandchild ${a1!.grandchild} of the killed run is still there`,
    );

    // Again at once: the delay has doubled.
    process.kill(a2.pid, "SIGKILL");
    await waitFor(() => /a exited unexpectedly \(signal SIGKILL\); restarting it in 2 s\n/.test(err.join("")), 5000, explain);
    const a3 = await waitFor(() => readies(out, "a")[2], 10_000, explain);
    all.push(a3.pid, a3.grandchild);

    assert.ok(!gone(b1!.pid) && !gone(b1!.grandchild), "b still running");
    assert.equal(readies(out, "b").length, 1, "b was never restarted");
    assert.doesNotMatch(err.join(""), /\bb exited/);

    launcher.kill("SIGTERM");
    assert.equal(await exited, 0, explain());
    assert.deepEqual(
      all.filter((pid) => !gone(pid)),
      [],
      "no service or grandchild left behind",
    );
    assert.equal(err.join("").match(/exited unexpectedly/g)?.length, 2, `nothing restarted on the way out: ${explain()}`);
  } finally {
    if (launcher.exitCode === null) launcher.kill("SIGKILL");
    for (const pid of all) if (!gone(pid)) process.kill(pid, "SIGKILL");
  }
});

test("backoff: 1 s doubling to 30 s by default; doubles per crash, up to the cap, and starts over after a long run", async () => {
  const { createSupervisor, DEFAULT_BACKOFF } = await load();
  assert.deepEqual(DEFAULT_BACKOFF, { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 });
  const log: string[] = [];
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const supervisor = createSupervisor({ log: (l) => log.push(l), out: sink, backoff: { initialMs: 50, maxMs: 200, resetAfterMs: 2000 } });
  const counter = path.join(dir, "counter");
  // Runs 1-4 crash soon after ready, run 5 lasts past resetAfterMs, run 6 starts slowly (past
  // resetAfterMs) and crashes soon after ready: a run is timed from its ready line, so its slow
  // start does not make it a good run. However slowly Node starts on a loaded machine, the short
  // runs stay ~1.9 s under resetAfterMs and the long one ~2 s over it.
  supervisor.start({ name: "c", args: [SERVICE, "c", counter, "100,100,100,100,4000,3000+100,60000"], readyMsg: "c ready" });
  const restarts = () => log.filter((l) => l.startsWith("c exited unexpectedly"));
  await waitFor(
    () => restarts().length === 6,
    60_000,
    () => log.join("\n"),
  );
  assert.deepEqual(
    restarts().map((l) => /restarting it in ([\d.]+) s$/.exec(l)?.[1]),
    ["0.05", "0.1", "0.2", "0.2", "0.05", "0.1"],
    log.join("\n"),
  );
  assert.ok(
    restarts().every((l) => l.includes("(exit code 3)")),
    log.join("\n"),
  );
  assert.equal(await supervisor.stop(), 0);
});

test("a service that exits before it is ready stops everything, with its exit code (a config error must not loop)", async () => {
  const { createSupervisor } = await load();
  const log: string[] = [];
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const supervisor = createSupervisor({ log: (l) => log.push(l), out: sink });
  const b = supervisor.start({ name: "b", args: [SERVICE, "b"], readyMsg: "b ready" });
  const { pid } = await b.ready;
  const bad = supervisor.start({ name: "bad", args: ["-e", "process.exit(7)"], readyMsg: "bad ready" });
  await assert.rejects(bad.ready, /bad exited before it was ready \(exit code 7\)/);
  assert.equal(await supervisor.stopped, 7);
  assert.ok(gone(pid), "the other service was stopped");
  assert.deepEqual(log, ["bad exited before it was ready (exit code 7); stopping"]);
});

test("with a format, each whole line of a service's output is rendered (lines split across chunks joined; what it cannot read, as it came)", async () => {
  const { createSupervisor } = await load();
  const { readableLogLines } = await import("@peercast/origin/service");
  const shown: string[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (shown.push(c.toString()), done()) });
  const supervisor = createSupervisor({ log: () => undefined, out, format: readableLogLines(false) });
  // One line written in two pieces, a line that is not JSON, then the ready line.
  const script = `const l = JSON.stringify({ level: 30, time: Date.UTC(2026, 11, 6, 10, 0, 0), service: "svc", msg: "hello", port: 8080 });
process.stdout.write(l.slice(0, 20)); setTimeout(() => { process.stdout.write(l.slice(20) + "\\nnot json\\n"); console.log(JSON.stringify({ level: 30, time: Date.now(), service: "svc", msg: "f ready" })); }, 100);
setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));`;
  await supervisor.start({ name: "f", args: ["-e", script], readyMsg: "f ready" }).ready;
  await supervisor.stop();
  const text = shown.join("");
  assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: svc: hello \{"port":8080\}\nnot json\n\[[\d:.]+\] INFO: svc: f ready\n$/, text);
});
