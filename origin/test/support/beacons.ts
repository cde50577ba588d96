// A valid stats beacon with zeroed counters, only what the caller cares about overridden (tests; the load test's light peers).
import type { StatsBeacon } from "../../src/wire/index.js";

export function beacon(viewerId: string, o: Partial<StatsBeacon> = {}): StatsBeacon {
  return {
    v: 1,
    viewerId,
    stream: "main",
    httpBytes: 0,
    p2pBytes: 0,
    uploadedBytes: 0,
    rejectedSegments: 0,
    stalls: 0,
    stallMs: 0,
    playingMs: 0,
    peers: 0,
    latencyMode: "balanced",
    p2p: { download: true, upload: true },
    ...o,
  };
}
