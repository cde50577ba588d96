import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The origin's Prometheus metrics: the one source of truth for /metrics and the dashboard. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "peercast_origin_" });
  const r = { registers: [registry] };
  return {
    registry,
    rtmpRefused: new Counter({
      name: "peercast_rtmp_refused_total",
      help: "RTMP connections or publishes refused or closed, by reason",
      labelNames: ["reason"] as const,
      ...r,
    }),
    ingestBytes: new Counter({
      name: "peercast_ingest_bytes_total",
      help: "Media bytes received from publishers",
      labelNames: ["stream"] as const,
      ...r,
    }),
    ingestBitrate: new Gauge({
      name: "peercast_ingest_bitrate_bps",
      help: "Publisher bitrate over the last seconds (bit/s)",
      labelNames: ["stream"] as const,
      ...r,
    }),
    ingestFps: new Gauge({
      name: "peercast_ingest_fps",
      help: "Video frames per second received from the publisher",
      labelNames: ["stream"] as const,
      ...r,
    }),
    transcodeSpeed: new Gauge({
      name: "peercast_transcode_speed",
      help: "Transcoder speed as a multiple of real time (below 1 means it falls behind)",
      labelNames: ["stream"] as const,
      ...r,
    }),
    transcodeBacklog: new Gauge({
      name: "peercast_transcode_backlog_bytes",
      help: "Ingest bytes waiting for the transcoder",
      labelNames: ["stream"] as const,
      ...r,
    }),
    transcodeDropped: new Counter({
      name: "peercast_transcode_dropped_bytes_total",
      help: "Ingest bytes dropped because the transcoder fell too far behind",
      labelNames: ["stream"] as const,
      ...r,
    }),
    ffmpegRestarts: new Counter({
      name: "peercast_ffmpeg_restarts_total",
      help: "Transcoder restarts after ffmpeg died mid-stream",
      labelNames: ["stream"] as const,
      ...r,
    }),
    reconnects: new Counter({
      name: "peercast_publisher_reconnects_total",
      help: "Publisher reconnects that resumed a session within the grace period",
      labelNames: ["stream"] as const,
      ...r,
    }),
    streamsLive: new Gauge({ name: "peercast_streams_live", help: "Streams with a live session", ...r }),
    segmentsProduced: new Counter({
      name: "peercast_segments_produced_total",
      help: "Media segments published in playlists",
      labelNames: ["stream", "rendition"] as const,
      ...r,
    }),
    segmentFetches: new Counter({
      name: "peercast_origin_segment_fetches_total",
      help: "Media segment responses served by the origin (copies = fetches / segments produced)",
      labelNames: ["stream", "rendition"] as const,
      ...r,
    }),
    segmentCopies: new Histogram({
      name: "peercast_origin_segment_copies",
      help: "Times each media segment was fetched from the origin, observed when it leaves the window",
      labelNames: ["stream", "rendition"] as const,
      buckets: [0, 1, 1.5, 2, 3, 5, 10, 20, 50],
      ...r,
    }),
    httpBytes: new Counter({
      name: "peercast_http_bytes_total",
      help: "Response body bytes served over HTTP, by kind",
      labelNames: ["kind"] as const,
      ...r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
