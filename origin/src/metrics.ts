import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The origin's Prometheus metrics: the one source of truth for /metrics and the dashboard. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "peercast_origin_" });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
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
    segmentFetches: counter("peercast_origin_segment_fetches_total", "Media segment responses served by the origin, whole or a byte range", rendition),
    segmentCopiesServed: counter(
      "peercast_origin_segment_copies_served_total",
      "Media segment copies served by the origin (a byte range counts its share): copies per segment = this / segments produced",
      rendition,
    ),
    segmentCopies: new Histogram({
      name: "peercast_origin_segment_copies",
      help: "Copies of each media segment the origin served (bytes served / segment size), observed when it leaves the window",
      labelNames: rendition,
      buckets: [0, 1, 1.5, 2, 3, 5, 10, 20, 50],
      registers,
    }),
    httpBytes: counter("peercast_http_bytes_total", "Stream response body bytes served over HTTP (origin egress), by kind and stream", ["kind", "stream"]),
    // Viewer figures, as players report them in their stats beacons (POST /api/stats).
    statsBeacons: counter(
      "peercast_stats_beacons_total",
      "Stats beacons received, by result: accepted, or why refused (invalid, too_large, unsupported_type, rate_limited, backwards, stream_changed, unknown_stream, full)",
      ["result"],
    ),
    viewers: gauge("peercast_viewers", "Players that sent a stats beacon within the last 3 stats intervals and have not left", stream),
    viewerBytes: counter(
      "peercast_viewer_bytes_total",
      "Bytes players received: source=http from the origin (segments, playlists, hashes), source=p2p segments from peers",
      ["stream", "source"],
    ),
    viewerUploadedBytes: counter("peercast_viewer_uploaded_bytes_total", "Segment bytes players sent to peers", stream),
    viewerRejectedSegments: counter(
      "peercast_viewer_rejected_segments_total",
      "Segments that failed the SHA-256 check in players (bytes from peers, or a download completed with them)",
      stream,
    ),
    viewerStalls: counter("peercast_viewer_stalls_total", "Playback stalls (rebuffering) players reported", stream),
    viewerStallSeconds: counter("peercast_viewer_stall_seconds_total", "Time players spent stalled", stream),
    viewerPlayingSeconds: counter(
      "peercast_viewer_playing_seconds_total",
      "Time players spent playing (stall ratio = stall seconds / (playing + stall seconds))",
      stream,
    ),
    viewerPeers: gauge("peercast_viewer_peers", "P2P connections of the current players, summed", stream),
    viewerPeerShare: gauge(
      "peercast_viewer_peer_share",
      "p2p / (p2p + http) bytes received by the current players since each loaded the page (0 without viewers); over a time window use rate() of peercast_viewer_bytes_total",
      stream,
    ),
    viewerStartup: new Histogram({
      name: "peercast_viewer_startup_seconds",
      help: "Time to the first frame, once per player",
      labelNames: stream,
      buckets: [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60],
      registers,
    }),
    viewerLatency: new Histogram({
      name: "peercast_viewer_latency_seconds",
      help: "Live latency (now minus the program date-time of the frame on screen), once per beacon, by latency mode",
      labelNames: ["stream", "mode"] as const,
      buckets: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 60],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
