import { configOrExit, runService, stopOnSignals } from "@peercast/origin/service";
import { loadConfig } from "./config.js";
import { LiveSwarms } from "./live-swarms.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { TrackerServer } from "./server.js";

async function main(): Promise<void> {
  const config = configOrExit("tracker", () => loadConfig());
  const log = createLogger(config.logLevel);
  const metrics = createMetrics();
  const live = new LiveSwarms({
    originUrls: config.originUrls,
    pollMs: config.pollMs,
    log: log.child({ component: "live-swarms" }),
    onEnded: (hashes) => server.dropSwarms(hashes),
  });
  const server = new TrackerServer({ config, live, metrics, log });
  await live.start();
  const port = await server.listen();
  log.info({ host: config.host, port, origins: config.originUrls }, "tracker ready");

  stopOnSignals(log, 5000, async () => {
    live.stop();
    await server.close();
  });
}

runService("tracker", main);
