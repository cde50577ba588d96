import type { Logger } from "pino";

/**
 * SIGINT and SIGTERM close the service once: `close` runs (with a hard deadline, so a stuck
 * shutdown cannot leave it half alive), then it logs and exits 0.
 */
export function stopOnSignals(log: Logger, deadlineMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    setTimeout(() => process.exit(1), deadlineMs).unref();
    await close();
    log.info("stopped");
    log.flush();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Runs a service's start-up; a failure is printed and the process exits 1. */
export function runService(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`peercast ${name} failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
