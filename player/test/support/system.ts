// The whole system on loopback for the player's tests: the real origin (with its test source
// or an ffmpeg publisher), the real tracker, and real viewers in Debian's Chromium.
import net from "node:net";
import { startOrigin, type OriginHandle } from "@peercast/origin/testing";
import { startTracker, type TrackerHandle } from "@peercast/tracker/testing";

export interface System {
  origin: OriginHandle;
  tracker: TrackerHandle;
  trackerPort: number;
  /** A new tracker on the same port (after `tracker.stop()`), as an operator's restart. */
  restartTracker(): Promise<TrackerHandle>;
  stop(): Promise<void>;
}

/** A port free right now: the origin must know the tracker's URL before the tracker starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function startSystem(o: { keys?: { key: string; stream: string }[]; env?: Record<string, string>; trackerEnv?: Record<string, string> } = {}): Promise<System> {
  const trackerPort = await freePort();
  const origin = await startOrigin({
    keys: o.keys ?? [],
    env: {
      PEERCAST_TRACKER_URLS: `ws://127.0.0.1:${trackerPort}/`,
      PEERCAST_TRACKER_METRICS_URL: `http://127.0.0.1:${trackerPort}/metrics`,
      PEERCAST_STATS_INTERVAL_MS: "1000",
      PEERCAST_STATS_RATE_PER_MIN: "6000",
      PEERCAST_LOG_LEVEL: "info",
      ...o.env,
    },
  });
  const launch = () => startTracker(origin.http, { PEERCAST_TRACKER_PORT: String(trackerPort), PEERCAST_LOG_LEVEL: "info", ...o.trackerEnv });
  const system: System = {
    origin,
    tracker: await launch(),
    trackerPort,
    restartTracker: async () => (system.tracker = await launch()),
    stop: async () => {
      await system.tracker.stop();
      await origin.stop();
    },
  };
  return system;
}
