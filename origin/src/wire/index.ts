// Wire types shared by origin, tracker, player and loadtest: the public contract.
// Import from "@peercast/origin/wire"; never copy these shapes into another package.

/** A stream's public state as `/api/streams` reports it. */
export type StreamState = "offline" | "live" | "reconnecting" | "ended";

export interface RenditionInfo {
  /** Path segment under the session, e.g. "720p". */
  name: string;
  width: number;
  height: number;
  /** Frames per second of the output. */
  fps: number;
  videoBitrateKbps: number;
  audioBitrateKbps: number;
  /** The source's own video, copied (`-c copy`) while its keyframes fit the segments. */
  passthrough?: boolean;
}

export interface StreamSessionInfo {
  /** Opaque id, new for every publish session (a reconnect within the grace period keeps it). */
  id: string;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601, only once ended. */
  endedAt?: string;
  renditions: RenditionInfo[];
  /** Relative to the origin, e.g. "/hls/main/master.m3u8". */
  masterPlaylist: string;
  /** Swarm id every player of this session must use (see swarmIdOf). */
  swarmId: string;
  segmentDurationSec: number;
}

export interface StreamInfo {
  /** Public stream name, e.g. "main". Never the stream key. */
  name: string;
  state: StreamState;
  session?: StreamSessionInfo;
  /** Players that reported in the last seconds (from their stats beacons). */
  viewers: number;
}

/** GET /api/streams */
export interface StreamListResponse {
  streams: StreamInfo[];
}

/** How far behind live a player plays, set per stream by the operator. */
export type LatencyMode = "balanced" | "low";

/** An ICE server as RTCPeerConnection takes it (STUN/TURN from the operator's config). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/**
 * A tracker as the API gives it: `ws://` or `wss://` URL, a path on the page's own host
 * (`/tracker/main`), or a port on the page's host name (`:8000/`). Never built from a request's
 * Host: edges cache the answer for everyone (resolveTracker turns it into a URL on the page).
 */
export const TRACKER_REF = /^(wss?:\/\/[^\s/]|\/|:[0-9]{1,5}\/)[^\s]*$/;

/** A tracker reference as a page at `pageUrl` must dial it: wss on https pages. */
export function resolveTracker(ref: string, pageUrl: string): string {
  if (/^wss?:\/\//.test(ref)) return ref;
  const page = new URL(pageUrl);
  const scheme = page.protocol === "https:" ? "wss" : "ws";
  return ref.startsWith("/") ? `${scheme}://${page.host}${ref}` : `${scheme}://${page.hostname}${ref}`;
}

/** What a player needs besides the stream's state: all from the operator's config. */
export interface PlayerSettings {
  /** Shown as the page title. */
  title: string;
  /** Tracker references (TRACKER_REF): always the operator's own, never a public default. */
  trackers: string[];
  /** STUN servers (the same for every viewer). */
  iceServers: IceServer[];
  /**
   * Where a player gets the TURN servers with credentials of its own (short-lived, never
   * cached); absent without TURN.
   */
  turnCredentialsPath?: string;
  /** The operator's switch for P2P on this stream. */
  p2p: boolean;
  latency: LatencyMode;
  /** Upload cap per viewer in kbit/s averaged over a few seconds; 0 means no cap. */
  uploadKbps: number;
  /** How often a player sends its stats beacon. */
  statsIntervalMs: number;
}

/** GET /api/turn-credentials: TURN servers with credentials for this viewer only. */
export interface TurnCredentialsResponse {
  iceServers: IceServer[];
  /** The credentials stop working this long after they were minted. */
  ttlSec: number;
}

/** GET /api/streams/{stream}: 404 for a name that is not configured. */
export interface StreamDetailResponse {
  stream: StreamInfo;
  player: PlayerSettings;
}

/** Why a player is not doing P2P (or not uploading); absent while it does. */
export type P2POffReason = "operator" | "viewer" | "no-webrtc" | "no-mse" | "insecure-context" | "save-data" | "cellular" | "upload-cap";

/**
 * POST /api/stats: a player's report, every statsIntervalMs and on page hide (sendBeacon,
 * text/plain). Counters are cumulative since the page loaded, so a lost or repeated beacon
 * never skews the totals; the origin adds the differences.
 */
export interface StatsBeacon {
  v: 1;
  /** Random per page load. */
  viewerId: string;
  stream: string;
  sessionId?: string;
  /** Every byte fetched over HTTP: segments, playlists, hash lists. */
  httpBytes: number;
  /** Segment bytes received from peers. */
  p2pBytes: number;
  uploadedBytes: number;
  /** Peer segments that failed the SHA-256 check. */
  rejectedSegments: number;
  stalls: number;
  stallMs: number;
  /** Time spent playing (not paused, not stalled): the stall ratio's denominator. */
  playingMs: number;
  /** Current values. */
  peers: number;
  /** Distinct peers this page has had a connection with since it loaded (how well viewers reach each other). */
  peersMet?: number;
  rendition?: string;
  /** Until the first frame, from the moment the player could start (page load or go-live). */
  startupMs?: number;
  /** Now minus the EXT-X-PROGRAM-DATE-TIME of the frame on screen. */
  latencyMs?: number;
  latencyMode: LatencyMode;
  p2p: { download: boolean; upload: boolean; reason?: P2POffReason };
  /** Set on the last beacon of a page (page hide): the viewer leaves the count at once. */
  final?: boolean;
}

/** One stream as the operator dashboard sees it; null where there is no data yet. */
export interface OperatorStreamFigures {
  name: string;
  state: StreamState;
  viewers: number;
  /** Of the bytes players received in the last minute, the share from peers (0..1). */
  shareFromPeers: number | null;
  /** Origin egress for this stream over the last minute, bit/s. */
  egressBps: number;
  /** What peers delivered instead of the origin over the last minute, bit/s. */
  savedBps: number;
  /** Origin fetches per segment, per rendition, over the last 5 minutes (optimum 1.0). */
  copiesPerSegment: Record<string, number | null>;
  /** Peers in the tracker's swarms of this stream; null without tracker metrics. */
  trackerPeers: number | null;
  startupMedianSec: number | null;
  startupP95Sec: number | null;
  /** Stalled time over playing time, last 5 minutes. */
  stallRatio: number | null;
  latencyMedianSec: number | null;
  /** Peer segments players rejected (SHA-256 mismatch) in the last hour. */
  rejectedSegments: number;
  ingest: { bitrateBps: number; fps: number; transcodeSpeed: number | null; reconnects: number; ffmpegRestarts: number };
  /** Keys that publish this stream: fingerprints and labels only. */
  keys: { fingerprint: string; label?: string }[];
}

export interface OperatorHistoryPoint {
  at: number;
  viewers: number;
  shareFromPeers: number | null;
  egressBps: number;
  savedBps: number;
  /** Origin copies per segment over the minute before, all renditions together. */
  copiesPerSegment: number | null;
  /** Stalled time over playing time, the minute before. */
  stallRatio: number | null;
  latencyMedianSec: number | null;
}

/** The whole server at a glance: every stream together (rates over the last minute). */
export interface OperatorTotals {
  viewers: number;
  liveStreams: number;
  shareFromPeers: number | null;
  egressBps: number;
  savedBps: number;
  /** Origin copies per segment over the last 5 minutes, every rendition of every stream. */
  copiesPerSegment: number | null;
  stallRatio: number | null;
  latencyMedianSec: number | null;
}

/** GET /api/operator/overview (operator only). */
export interface OperatorOverview {
  totals: OperatorTotals;
  streams: OperatorStreamFigures[];
  /** Per stream, the last hour. */
  history: Record<string, OperatorHistoryPoint[]>;
  /** Where to point OBS (the key is in the keys file, or added here). */
  rtmpUrl: string;
}

/**
 * GET /hls/{stream}/{session}/{rendition}/hashes.json. Every segment listed by a media
 * playlist of that rendition is in `segments` before the playlist lists it, keyed by the
 * segment's file name as it appears in the playlist.
 */
export interface SegmentHashList {
  version: 1;
  algorithm: "sha256";
  /** file name -> lowercase hex SHA-256 of the exact bytes served. */
  segments: Record<string, string>;
}

/**
 * The explicit P2P swarm id of a stream session. Players of the same session meet
 * whatever hostname or edge they use; a new session never meets stale peers.
 */
export function swarmIdOf(stream: string, sessionId: string): string {
  return `${stream}:${sessionId}`;
}

/**
 * The test source's machine-readable clock: a row of squares near the top-left corner.
 * Square 0 is always white and the last always black (framing); between them, `dataBits`
 * squares carry (wall-clock ms since the epoch) mod 2^dataBits, most significant bit
 * first, white = 1. Sizes are in source pixels of a 1280-wide frame; scale with the width.
 */
export const BLOCK_CODE = {
  dataBits: 32,
  squarePx: 16,
  leftPx: 16,
  topPx: 32,
  /** Reference width the pixel sizes above are given for. */
  referenceWidth: 1280,
} as const;

/** Reconstructs full epoch ms from the block code's value, taking the candidate nearest `nowMs`. */
export function blockCodeToEpochMs(value: number, nowMs: number): number {
  const period = 2 ** BLOCK_CODE.dataBits;
  const base = nowMs - (nowMs % period);
  const candidates = [base - period + value, base + value, base + period + value];
  return candidates.reduce((best, c) => (Math.abs(c - nowMs) < Math.abs(best - nowMs) ? c : best));
}
