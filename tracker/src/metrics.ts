import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** The tracker's Prometheus metrics (also behind /stats.json and the dashboard). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "peercast_tracker_" });
  const registers = [registry];
  return {
    registry,
    connections: new Gauge({ name: "peercast_tracker_connections", help: "Open WebSocket connections", registers }),
    peers: new Gauge({ name: "peercast_tracker_peers", help: "Peers in live swarms", registers }),
    streamPeers: new Gauge({
      name: "peercast_tracker_stream_peers",
      help: "Peers in the live swarms of each stream (all renditions)",
      labelNames: ["stream"],
      registers,
    }),
    swarms: new Gauge({ name: "peercast_tracker_live_swarms", help: "Live rendition swarms known from the origin", registers }),
    messages: new Counter({ name: "peercast_tracker_messages_total", help: "WebSocket messages received", registers }),
    announces: new Counter({ name: "peercast_tracker_announces_total", help: "Announces accepted", registers }),
    relayed: new Counter({
      name: "peercast_tracker_relayed_total",
      help: "Offers and answers relayed between peers",
      labelNames: ["kind"] as const,
      registers,
    }),
    peerReports: new Counter({
      name: "peercast_tracker_peer_reports_total",
      help: "Reports of a peer that sent bytes failing the hash check, recorded (the pair is never introduced again)",
      registers,
    }),
    unreachableReports: new Counter({
      name: "peercast_tracker_unreachable_reports_total",
      help: "Pairs of peers that could not connect to each other (reported by one of them; not introduced again for 10 min)",
      registers,
    }),
    peersBanned: new Counter({
      name: "peercast_tracker_peers_banned_total",
      help: "Peers reported from enough client addresses to be introduced to nobody in their swarm",
      registers,
    }),
    refused: new Counter({
      name: "peercast_tracker_refused_total",
      help: "Messages or connections refused, by reason",
      labelNames: ["reason"] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
