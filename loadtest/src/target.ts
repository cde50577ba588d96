// What the load test runs against: a system of its own (origin with its test source and a
// tracker, on loopback) or a running one (`--origin URL`), with the controls the scenarios use.
import fs from "node:fs";
import { descendants, cmdline, getJson, waitFor, waitLive, waitForSegment } from "@peercast/origin/testing";
import type { LatencyMode, StreamDetailResponse } from "@peercast/origin/wire";
import { startSystem, type System } from "@peercast/player/testing";
import { NetworkEmulator, SERVER_ADDRESS } from "./net/emulator.js";
import type { NetProfileName } from "./net/profiles.js";
import { startStun } from "./net/stun-server.js";
import { parseMediaPlaylist } from "./peers/media-playlist.js";
import { ABR } from "./options.js";

export interface Target {
  originUrl: string;
  /** The origin's /metrics, on its metrics listener (not the viewers' port). */
  originMetricsUrl: string;
  /** The tracker's /metrics, when known. */
  trackerMetricsUrl: string | undefined;
  stream: string;
  segmentSec: number;
  /** The stream's renditions (path names), as its session lists them. */
  renditions: string[];
  /** Each rendition's bitrate, measured from its segments' sizes (kbit/s). */
  bitrateKbps: Record<string, number>;
  /** Emulated links (`--net` other than lan): the network, and the origin as members reach it there. */
  network: { emulator: NetworkEmulator; originUrl: string } | undefined;
  /** Present for a system of our own: what scenarios and cost figures need. */
  local: LocalSystem | undefined;
  stop(): Promise<void>;
}

export interface LocalSystem {
  pids(): { origin: number; tracker: number };
  setLatencyMode(mode: LatencyMode): Promise<void>;
  /** Stops the tracker and starts it again on the same port after `downMs`. */
  restartTracker(downMs: number): Promise<void>;
  /** SIGKILLs the test source's publisher (as OBS losing its network); the origin restarts it. */
  dropPublisher(): void;
  /** SIGKILLs the transcoding ffmpeg; the origin restarts it. */
  killTranscoder(): void;
}

/** The keys file as far as the load test touches it (the origin validates the rest). */
interface KeysFileContent {
  keys: unknown[];
  streams?: Record<string, Record<string, unknown>>;
}

export async function startLocalTarget(o: {
  stream: string;
  ladder: string;
  rendition: string;
  net: NetProfileName[];
  seed: number;
  out: string;
}): Promise<Target> {
  const [first, size = "640x360"] = o.ladder.split(",")[0]!.split(":");
  // Emulated links: the server side is 198.51.100.1 in this namespace, with a STUN server (as
  // deployed); origin and tracker listen on every address, loopback for this process.
  const emulator = o.net.some((n) => n !== "lan") ? await NetworkEmulator.start({ dir: o.out, seed: o.seed }) : undefined;
  const stun = emulator
    ? await startStun(SERVER_ADDRESS).catch(async (err: unknown) => {
        await emulator.stop();
        throw err;
      })
    : undefined;
  const emulated: Record<string, string> = stun ? { PEERCAST_HTTP_HOST: "0.0.0.0", PEERCAST_ICE_SERVERS: JSON.stringify([{ urls: stun.url }]) } : {};
  const system = await startSystem({
    env: {
      ...emulated,
      PEERCAST_TEST_SOURCE: "1",
      PEERCAST_TEST_SOURCE_STREAM: o.stream,
      // As wide as the first rendition: the block code reads cleanly without scaling.
      PEERCAST_TEST_SOURCE_SIZE: size,
      PEERCAST_LADDER: o.ladder,
      // Every Chromium viewer beacons from 127.0.0.1: one address, many viewers.
      PEERCAST_STATS_RATE_PER_MIN: "60000",
      PEERCAST_STATS_BURST: "1000",
    },
    // Likewise every member connects to the tracker from it, all in a phase's first seconds.
    trackerEnv: {
      PEERCAST_TRACKER_CONNECTIONS_PER_IP: "100000",
      PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: "100000",
      PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: "100000",
      ...(emulator ? { PEERCAST_TRACKER_HOST: "0.0.0.0" } : {}),
    },
  }).catch(async (err: unknown) => {
    await stun?.stop();
    await emulator?.stop();
    throw err;
  });
  const http = system.origin.http;
  const session = (await waitLive(http, o.stream)).session!;
  // Phases start against a playlist as long as a steady stream's, not a go-live one.
  await waitForSegment(http, o.stream, session.id, o.rendition === ABR ? first! : o.rendition, 6, 60_000);
  return {
    originUrl: http,
    originMetricsUrl: `${system.origin.metrics}/metrics`,
    segmentSec: session.segmentDurationSec,
    renditions: session.renditions.map((r) => r.name),
    bitrateKbps: await measureBitrates(
      http,
      o.stream,
      session.id,
      session.renditions.map((r) => r.name),
    ),
    network: emulator ? { emulator, originUrl: `http://${SERVER_ADDRESS}:${new URL(http).port}` } : undefined,
    // The tracker's metrics listener, on the same port after a restart.
    trackerMetricsUrl: `http://127.0.0.1:${system.trackerMetricsPort}/metrics`,
    stream: o.stream,
    local: localControls(system, o.stream),
    stop: async () => {
      await system.stop();
      fs.rmSync(system.origin.dataDir, { recursive: true, force: true }); // our own temp dir
      await stun?.stop();
      await emulator?.stop();
    },
  };
}

/**
 * A rendition's bitrate from the sizes of its listed segments (HEAD: the origin counts no copy)
 * over their durations: what one viewer downloads per second.
 */
export async function measureBitrates(originUrl: string, stream: string, session: string, renditions: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of renditions) {
    const url = `${originUrl}/hls/${stream}/${session}/${r}/index.m3u8`;
    const playlist = parseMediaPlaylist(await (await fetch(url)).text(), url);
    const listed = playlist.segments.filter((s) => !s.gap).slice(-5);
    let bytes = 0;
    let seconds = 0;
    for (const s of listed) {
      const res = await fetch(s.url, { method: "HEAD" });
      const length = Number(res.headers.get("content-length"));
      if (!res.ok || !Number.isFinite(length)) continue;
      bytes += length;
      seconds += s.durationSec;
    }
    if (seconds > 0) out[r] = Math.round((bytes * 8) / seconds / 1000);
  }
  return out;
}

/**
 * A running system. Neither service serves /metrics on the players' port: the origin's is
 * required (`--origin-metrics`), the tracker's optional (`--tracker-metrics`).
 */
export async function remoteTarget(url: string, stream: string, originMetricsUrl: string, trackerMetricsUrl?: string): Promise<Target> {
  const originUrl = url.replace(/\/+$/, "");
  const detail = await getJson<StreamDetailResponse>(`${originUrl}/api/streams/${stream}`);
  if (detail.stream.state !== "live" || !detail.stream.session) throw new Error(`stream "${stream}" at ${originUrl} is ${detail.stream.state}, not live`);
  const session = detail.stream.session;
  return {
    originUrl,
    originMetricsUrl,
    trackerMetricsUrl,
    bitrateKbps: await measureBitrates(
      originUrl,
      stream,
      session.id,
      session.renditions.map((r) => r.name),
    ),
    network: undefined,
    stream,
    segmentSec: session.segmentDurationSec,
    renditions: session.renditions.map((r) => r.name),
    local: undefined,
    stop: async () => {},
  };
}

function localControls(system: System, stream: string): LocalSystem {
  const ffmpegs = () => descendants(system.origin.pid).filter((pid) => cmdline(pid).startsWith("ffmpeg"));
  const kill = (pid: number | undefined, what: string) => {
    if (pid === undefined) throw new Error(`no ${what} process found`);
    process.kill(pid, "SIGKILL"); // a child of the origin we started
  };
  return {
    pids: () => ({ origin: system.origin.pid, tracker: system.tracker.pid }),
    setLatencyMode: async (mode) => {
      const file = system.origin.keysFile;
      const content = JSON.parse(fs.readFileSync(file, "utf8")) as KeysFileContent;
      content.streams = { ...content.streams, [stream]: { ...content.streams?.[stream], latency: mode } };
      // Atomic, as an operator's editor does: the origin never reads a half-written file.
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(content));
      fs.renameSync(`${file}.tmp`, file);
      const url = `${system.origin.http}/api/streams/${stream}`;
      await waitFor(
        async () => (await getJson<StreamDetailResponse>(url)).player.latency === mode,
        10_000,
        () => `(mode ${mode} not applied)`,
      );
    },
    restartTracker: async (downMs) => {
      await system.tracker.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await system.restartTracker();
    },
    // The test source draws testsrc2; the transcoder reads the FLV feed on stdin.
    dropPublisher: () =>
      kill(
        ffmpegs().find((pid) => cmdline(pid).includes("testsrc2")),
        "test source ffmpeg",
      ),
    killTranscoder: () =>
      kill(
        ffmpegs().find((pid) => cmdline(pid).includes("pipe:0")),
        "transcoder ffmpeg",
      ),
  };
}
