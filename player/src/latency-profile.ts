// The two latency modes as hls.js and p2p-media-loader settings.
//
// The slack rule (docs/results.md, "What to expect at scale"): a new segment appears at the
// live edge, `liveSync` seconds ahead of the playhead, and becomes HTTP-urgent once it is within
// `highDemandTimeWindow` of the playhead. P2P has the time in between, less the segment's
// own duration, to spread it: slack = liveSync - segment - highDemand. Balanced keeps it above
// one source handoff (~1.5 s measured on loopback); low trades most of it for latency, which
// the seeder election (core-patches.mjs) makes affordable (the load test measures both).
import type { LatencyMode } from "@peercast/origin/wire";

export interface LatencyProfile {
  hls: {
    liveSyncDuration: number;
    liveMaxLatencyDuration: number;
    maxBufferLength: number;
    maxMaxBufferLength: number;
    backBufferLength: number;
  };
  core: {
    highDemandTimeWindow: number;
    simultaneousHttpDownloads: number;
    simultaneousP2PDownloads: number;
    p2pNotReceivingBytesTimeoutMs: number;
    httpNotReceivingBytesTimeoutMs: number;
  };
  /** liveSync - segment - highDemand: the time P2P has to spread a new segment. */
  slackSec: number;
  /** HTTP-urgent window while no peer is connected (see highDemandWindow). */
  aloneHighDemandSec: number;
}

const MODES: Record<LatencyMode, { liveSyncSegments: number; highDemandSegments: number; p2pTimeoutMs: number }> = {
  // ~6.2 s glass-to-glass with 2 s segments (5.5 s + ~0.7 s of encoders and publishing); 2.5 s of slack.
  balanced: { liveSyncSegments: 2.75, highDemandSegments: 0.5, p2pTimeoutMs: 1500 },
  // ~4.2 s glass-to-glass with 2 s segments; 1 s of slack: the elected seeder fetches a new
  // segment as it appears (core-patches.mjs), and a relay tree of ten viewers on 10 Mbit/s
  // uplinks needs about 0.65 s (with 0.5 s of slack, 2.6 origin copies on emulated cable
  // links against 1.5 with 1 s). A slow peer is dropped sooner.
  low: { liveSyncSegments: 1.75, highDemandSegments: 0.25, p2pTimeoutMs: 800 },
};

export function latencyProfile(mode: LatencyMode, segmentSec: number): LatencyProfile {
  const m = MODES[mode];
  const liveSync = m.liveSyncSegments * segmentSec;
  const highDemand = m.highDemandSegments * segmentSec;
  return {
    hls: {
      liveSyncDuration: liveSync,
      // Further behind than this (after a long stall) hls.js jumps back to the sync point.
      liveMaxLatencyDuration: liveSync + 3 * segmentSec,
      // The engine rewrites these when unset; the playhead never has more than liveSync ahead.
      maxBufferLength: liveSync + segmentSec,
      maxMaxBufferLength: liveSync + segmentSec,
      backBufferLength: 2 * segmentSec,
    },
    core: {
      highDemandTimeWindow: highDemand,
      // Two: the segment this peer was elected to fetch for the swarm (see core-patches.mjs)
      // never has to be abandoned for an urgent one, and an abandoned fetch is origin egress lost.
      simultaneousHttpDownloads: 2,
      simultaneousP2PDownloads: 3,
      p2pNotReceivingBytesTimeoutMs: m.p2pTimeoutMs,
      httpNotReceivingBytesTimeoutMs: 3000,
    },
    slackSec: liveSync - segmentSec - highDemand,
    aloneHighDemandSec: Math.min(liveSync + segmentSec, 2 * segmentSec),
  };
}

/**
 * How far ahead segments are HTTP-urgent. With no peer connected nothing can come from peers:
 * the next two segments are fetched at once (the engine otherwise waits until a segment is about
 * to play, and a lone viewer, or one still meeting its peers, stalls on any slow fetch); the rest
 * of the buffer waits a moment for peers that may connect.
 */
export function highDemandWindow(profile: LatencyProfile, connectedPeers: number): number {
  return connectedPeers > 0 ? profile.core.highDemandTimeWindow : profile.aloneHighDemandSec;
}

/** Calls `apply` with the new HTTP-urgent window whenever the peer count crosses between none and some. */
export function followPeers(profile: LatencyProfile, apply: (highDemandTimeWindow: number) => void): (connectedPeers: number) => void {
  let window = highDemandWindow(profile, 0);
  return (connectedPeers) => {
    const next = highDemandWindow(profile, connectedPeers);
    if (next !== window) apply((window = next));
  };
}
