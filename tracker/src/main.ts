import { configOrExit, createLogger, runService, stopOnSignals } from "@peercast/origin/service";
import { loadConfig } from "./config.js";
import { LiveSwarms } from "./live-swarms.js";
import { createMetrics } from "./metrics.js";
import { TrackerServer } from "./server.js";

async function main(): Promise<void> {
  const config = configOrExit("tracker", () => loadConfig());
  const log = createLogger({ service: "tracker", level: config.logLevel, format: config.logFormat });
  const metrics = createMetrics();
  const live = new LiveSwarms({
    originUrls: config.originUrls,
    pollMs: config.pollMs,
    log: log.child({ component: "live-swarms" }),
    onEnded: (hashes) => server.dropSwarms(hashes),
  });
  const server = new TrackerServer({ config, live, metrics, log });
  await live.start();
  const { port, metricsPort } = await server.listen();
  // The launcher and the tests read both ports from this line.
  log.info({ host: config.host, port, metricsHost: config.metrics.host, metricsPort, origins: config.originUrls }, "tracker ready");

  stopOnSignals(log, 5000, async () => {
    live.stop();
    await server.close();
  });
}

runService("tracker", main);
