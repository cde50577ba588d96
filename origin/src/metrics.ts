import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The origin's Prometheus metrics: the one source of truth for /metrics and the dashboard. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "peercast_origin_" });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const stream = ["stream"] as const;
  const rendition = ["stream", "rendition"] as const;
  return {
    registry,
    rtmpRefused: counter("peercast_rtmp_refused_total", "RTMP connections or publishes refused or closed, by reason", ["reason"]),
    ingestBytes: counter("peercast_ingest_bytes_total", "Media bytes received from publishers", stream),
    ingestBitrate: gauge("peercast_ingest_bitrate_bps", "Publisher bitrate over the last seconds (bit/s)", stream),
    ingestFps: gauge("peercast_ingest_fps", "Video frames per second received from the publisher", stream),
    transcodeSpeed: gauge("peercast_transcode_speed", "Transcoder speed as a multiple of real time (below 1 means it falls behind)", stream),
    transcodeBacklog: gauge("peercast_transcode_backlog_bytes", "Ingest bytes waiting for the transcoder", stream),
    transcodeDropped: counter("peercast_transcode_dropped_bytes_total", "Ingest bytes dropped because the transcoder fell too far behind", stream),
    ffmpegRestarts: counter("peercast_ffmpeg_restarts_total", "Transcoder restarts after ffmpeg died mid-stream", stream),
    reconnects: counter("peercast_publisher_reconnects_total", "Publisher reconnects that resumed a session within the grace period", stream),
    streamsLive: gauge("peercast_streams_live", "Streams with a live session", []),
    segmentsProduced: counter("peercast_segments_produced_total", "Media segments published in playlists", rendition),
    segmentFetches: counter(
      "peercast_origin_segment_fetches_total",
      "Media segment responses served by the origin (copies = fetches / segments produced)",
      rendition,
    ),
    segmentCopies: new Histogram({
      name: "peercast_origin_segment_copies",
      help: "Times each media segment was fetched from the origin, observed when it leaves the window",
      labelNames: rendition,
      buckets: [0, 1, 1.5, 2, 3, 5, 10, 20, 50],
      registers,
    }),
    httpBytes: counter("peercast_http_bytes_total", "Response body bytes served over HTTP, by kind", ["kind"]),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
