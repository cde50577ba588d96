// The whole system on loopback for the player's tests: the real origin (with its test source
// or an ffmpeg publisher), the real tracker, and real viewers in Debian's Chromium.
import net from "node:net";
import { startOrigin, type OriginHandle } from "@peercast/origin/testing";
import { startTracker, type TrackerHandle } from "@peercast/tracker/testing";

export interface System {
  origin: OriginHandle;
  tracker: TrackerHandle;
  trackerPort: number;
  /** The tracker's metrics listener (/metrics, /stats.json), kept across restarts. */
  trackerMetricsPort: number;
  /** A new tracker on the same port (after `tracker.stop()`), as an operator's restart. */
  restartTracker(): Promise<TrackerHandle>;
  stop(): Promise<void>;
}

/**
 * A port free right now: the origin must know the tracker's URL before the tracker starts. Below
 * Linux's ephemeral range (32768 and up), so that no listener on port 0 (the origin's) or
 * outgoing connection takes it before its owner binds it.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port between 20000 and 32000");
}

export async function startSystem(
  o: { keys?: { key: string; stream: string }[]; env?: Record<string, string>; trackerEnv?: Record<string, string> } = {},
): Promise<System> {
  const trackerPort = await freePort();
  let trackerMetricsPort = await freePort();
  while (trackerMetricsPort === trackerPort) trackerMetricsPort = await freePort();
  const origin = await startOrigin({
    keys: o.keys ?? [],
    env: {
      // On the page's own host: loopback here, the server side's address on emulated links.
      PEERCAST_TRACKER_URLS: `:${trackerPort}/`,
      PEERCAST_TRACKER_METRICS_URL: `http://127.0.0.1:${trackerMetricsPort}/metrics`,
      PEERCAST_STATS_INTERVAL_MS: "1000",
      PEERCAST_STATS_RATE_PER_MIN: "6000",
      PEERCAST_LOG_LEVEL: "info",
      ...o.env,
    },
  });
  const launch = () =>
    startTracker(origin.http, {
      PEERCAST_TRACKER_PORT: String(trackerPort),
      PEERCAST_TRACKER_METRICS_PORT: String(trackerMetricsPort),
      PEERCAST_LOG_LEVEL: "info",
      ...o.trackerEnv,
    });
  // A tracker that cannot start must not leave the origin (and its ffmpeg) behind.
  const tracker = await launch().catch(async (err: unknown) => {
    await origin.stop();
    throw err;
  });
  const system: System = {
    origin,
    tracker,
    trackerPort,
    trackerMetricsPort,
    restartTracker: async () => (system.tracker = await launch()),
    stop: async () => {
      await system.tracker.stop();
      await origin.stop();
    },
  };
  return system;
}
