import { ConfigError, loadConfig, type TrackerConfig } from "./config.js";
import { LiveSwarms } from "./live-swarms.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { TrackerServer } from "./server.js";

function configOrExit(): TrackerConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`peercast tracker: ${err.message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const log = createLogger(config.logLevel);
  const metrics = createMetrics();
  let server: TrackerServer | undefined;
  const live = new LiveSwarms({
    originUrl: config.originUrl,
    pollMs: config.pollMs,
    log: log.child({ component: "live-swarms" }),
    onEnded: (hashes) => server?.dropSwarms(hashes),
  });
  server = new TrackerServer({ config, live, metrics, log });
  await live.start();
  const port = await server.listen();
  log.info({ host: config.host, port, origin: config.originUrl }, "tracker ready");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    setTimeout(() => process.exit(1), 5000).unref();
    live.stop();
    await server?.close();
    log.info("stopped");
    log.flush();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`peercast tracker failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
