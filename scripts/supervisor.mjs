// Keeps `npm start`'s services (the origin, the tracker) running as child processes: one that
// exits without being asked to is restarted with backoff; all of them stop only when the
// launcher is told to (Ctrl+C, SIGTERM). Plain Node with no dependencies, like bootstrap.mjs.
import { spawn } from "node:child_process";

/**
 * 1 s, doubling to 30 s; back to 1 s once a run has lasted 60 s after its ready line (a crash
 * loop vs a rare crash; a slow start is no part of a run that worked).
 */
export const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** A service's line as `format` renders it; a line it cannot read (not JSON) as it came. */
function formatted(format, line) {
  try {
    const text = format(line);
    return text.endsWith("\n") ? text : `${text}\n`;
  } catch {
    return `${line}\n`;
  }
}

const alive = (child) => child !== undefined && child.exitCode === null && child.signalCode === null;

/** Signals a service's whole process group: what it started (the origin's ffmpeg) goes with it. */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* nothing left in the group */
  }
}

/**
 * `log(line)` gets the supervisor's own lines; services' stdout goes to `out` (their stderr is
 * inherited), each whole line through `format` if given (readable log lines on a terminal).
 * `stopTimeoutMs`: how long a stop waits before it kills what is left.
 */
export function createSupervisor({ log, out = process.stdout, format, backoff = DEFAULT_BACKOFF, stopTimeoutMs = 20_000 }) {
  const services = [];
  let stopping = false;
  let exitCode = 0;
  let resolveStopped;
  const stopped = new Promise((resolve) => (resolveStopped = resolve));

  /**
   * Starts `command args` (default: this Node) as service `name`. Its `ready` resolves with the
   * first JSON log line whose msg is `readyMsg`, and rejects if it exits before that: a service
   * that cannot start (bad config, port taken) stops everything rather than restarting forever.
   */
  function start({ name, command = process.execPath, args = [], env = process.env, cwd, readyMsg }) {
    let resolveReady, rejectReady;
    const svc = { name, child: undefined, timer: undefined, everReady: false, delayMs: backoff.initialMs, exited: Promise.resolve() };
    svc.ready = new Promise((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
    svc.ready.catch(() => {}); // the caller may not be awaiting it yet; it sees the rejection when it does
    services.push(svc);

    const run = () => {
      svc.timer = undefined;
      let readyAt; // when this run's ready line came; a run that never got there was not a good one
      // A process group of its own (detached), so a crashed service's leftovers can be swept.
      const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
      svc.child = child;
      let pending = ""; // this run's output up to its ready line; null after it
      let partial = ""; // a line still arriving, when lines are formatted
      child.stdout.on("data", (chunk) => {
        if (format) {
          const lines = (partial + chunk.toString()).split("\n");
          partial = lines.pop();
          for (const line of lines) out.write(formatted(format, line));
        } else out.write(chunk);
        if (pending === null) return;
        const lines = (pending + chunk.toString()).split("\n");
        pending = lines.pop().slice(-8192); // an unfinished line waits for the rest
        const line = lines.find((l) => l.includes(`"msg":"${readyMsg}"`));
        if (line === undefined) return;
        pending = null;
        readyAt = Date.now();
        if (svc.everReady) return log(`${name} is back`);
        svc.everReady = true;
        try {
          resolveReady(JSON.parse(line));
        } catch {
          resolveReady({});
        }
      });
      child.once("exit", () => killGroup(child.pid, "SIGKILL"));
      // "close": after the exit and the last of its output, so a ready line it printed counts.
      svc.exited = new Promise((resolve) =>
        child.once("close", (code, signal) => {
          resolve();
          if (stopping) return;
          const how = signal ? `signal ${signal}` : `exit code ${code}`;
          if (!svc.everReady) {
            log(`${name} exited before it was ready (${how}); stopping`);
            exitCode = code || 1;
            rejectReady(new Error(`${name} exited before it was ready (${how})`));
            void stop("SIGTERM");
            return;
          }
          if (readyAt !== undefined && Date.now() - readyAt >= backoff.resetAfterMs) svc.delayMs = backoff.initialMs;
          const delayMs = svc.delayMs;
          svc.delayMs = Math.min(delayMs * 2, backoff.maxMs);
          log(`${name} exited unexpectedly (${how}); restarting it in ${delayMs / 1000} s`);
          svc.timer = setTimeout(run, delayMs);
        }),
      );
    };
    if (stopping) rejectReady(new Error(`${name} not started: stopping`));
    else run();
    return { name, ready: svc.ready, pid: () => (alive(svc.child) ? svc.child.pid : undefined) };
  }

  /** Sends `signal` to every service, waits for them all to exit; resolves with the exit code. */
  function stop(signal = "SIGTERM") {
    if (stopping) return stopped;
    stopping = true;
    for (const svc of services) {
      clearTimeout(svc.timer);
      if (alive(svc.child)) svc.child.kill(signal);
    }
    const force = setTimeout(() => {
      for (const svc of services.filter((s) => alive(s.child))) {
        log(`${svc.name} did not stop within ${stopTimeoutMs / 1000} s; killing it`);
        killGroup(svc.child.pid, "SIGKILL");
      }
    }, stopTimeoutMs);
    void Promise.all(services.map((s) => s.exited)).then(() => {
      clearTimeout(force);
      resolveStopped(exitCode);
    });
    return stopped;
  }

  /** Synchronous last resort (the launcher is exiting anyway): kills every service's group. */
  function killAll() {
    for (const svc of services) if (svc.child) killGroup(svc.child.pid, "SIGKILL");
  }

  return { start, stop, stopped, killAll };
}

/**
 * Makes this process the launcher: SIGINT is forwarded as SIGINT, SIGTERM and SIGHUP (the
 * terminal closed; the services, in their own groups, do not get it) as SIGTERM; once every
 * service has exited, this process exits.
 */
export function stopOnSignals(supervisor) {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => void supervisor.stop(sig === "SIGINT" ? "SIGINT" : "SIGTERM"));
  process.on("exit", () => supervisor.killAll());
  void supervisor.stopped.then((code) => process.exit(code));
}
