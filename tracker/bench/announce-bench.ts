// `npm run bench` (tracker): this tracker against a bare bittorrent-tracker Server in one run,
// each pinned to core 0 while this load generator runs on core 1 (see package.json).
// - Open-loop announce rate steps, each announce with 5 offers, offers answered like players
//   do: the highest rate each sustains with p99 announce latency under 50 ms.
// - Server CPU per announce in swarms of growing size, and memory per connected peer (19k
//   rather than 20k: a process may open 20000 files here, and each side holds one per peer).
// Writes bench/results/announce.json.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { infoHashOf, parseMasterVariants } from "../src/info-hash.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const STEP_SEC = Number(process.env.BENCH_STEP_SEC ?? 5);
const RATES = [250, 500, 1000, 1500, 2000, 3000, 4000, 6000];
const SWARM_SIZES = (process.env.BENCH_SWARMS ?? "1000,10000,19000").split(",").map(Number);
const SDP = "v=0\r\n" + "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n".repeat(6);
const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1394400,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000\nB1/360p/index.m3u8\n';
const INFO_HASH = infoHashOf("bench:B1", parseMasterVariants(MASTER)[0]!);

const rnd = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("");

/** The origin API the tracker polls, with one live session (the tracker's own input, nothing else). */
function fakeOrigin(): Promise<http.Server> {
  const api = { streams: [{ name: "bench", state: "live", session: { id: "B1", swarmId: "bench:B1", masterPlaylist: "/hls/bench/master.m3u8" } }] };
  const server = http.createServer((req, res) => res.end(req.url === "/api/streams" ? JSON.stringify(api) : MASTER));
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

interface Tracker {
  pid: number;
  url: string;
  stop(): void;
}

async function startTracker(kind: "peercast" | "bare", originUrl: string): Promise<Tracker> {
  const script = kind === "peercast" ? path.join(here, "../src/main.js") : path.join(here, "bare-tracker.js");
  const proc = spawn("taskset", ["-c", "0", process.execPath, script], {
    env: {
      PATH: process.env.PATH,
      PEERCAST_TRACKER_HOST: "127.0.0.1",
      PEERCAST_TRACKER_PORT: "0",
      PEERCAST_TRACKER_METRICS_PORT: "0", // unread here; any free port rather than a clash on 8001
      PEERCAST_ORIGIN_URL: originUrl,
      PEERCAST_LOG_LEVEL: "info", // start-up and warnings; announces log at debug
      // One load generator stands for many players: per-client limits off, the rest as shipped.
      PEERCAST_TRACKER_CONNECTIONS_PER_IP: "100000",
      PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: "10000000",
      PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: "100000",
      PEERCAST_TRACKER_MESSAGES_PER_SEC: "100000",
      PEERCAST_TRACKER_MESSAGE_BURST: "100000",
      PEERCAST_TRACKER_MIN_OFFERS_GAP_MS: "0",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) => {
    let out = "";
    proc.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /"tracker ready".*?"port":(\d+)|"port":(\d+).*?"tracker ready"/.exec(out);
      if (m) resolve(Number(m[1] ?? m[2]));
    });
  });
  return { pid: proc.pid!, url: `ws://127.0.0.1:${port}`, stop: () => proc.kill("SIGKILL") };
}

/** A simulated player: announces with offers, answers the offers it gets. */
class Peer {
  readonly ws: WebSocket;
  readonly id = rnd(20);
  private readonly sent: number[] = [];
  constructor(
    url: string,
    private readonly onLatency: (ms: number) => void,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on("error", () => undefined);
    this.ws.on("message", (data) => {
      const m = JSON.parse((data as Buffer).toString("utf8")) as Record<string, unknown>;
      if (m.offer) {
        this.send({
          action: "announce",
          info_hash: INFO_HASH,
          peer_id: this.id,
          to_peer_id: m.peer_id,
          offer_id: m.offer_id,
          answer: { type: "answer", sdp: SDP },
        });
      } else if (m.interval !== undefined) {
        const t = this.sent.shift();
        if (t !== undefined) this.onLatency(performance.now() - t);
      }
    });
  }
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
  }
  announce(offers: number): void {
    this.sent.push(performance.now());
    this.send({
      action: "announce",
      info_hash: INFO_HASH,
      peer_id: this.id,
      numwant: offers,
      uploaded: 0,
      downloaded: 0,
      offers: Array.from({ length: offers }, () => ({ offer: { type: "offer", sdp: SDP }, offer_id: rnd(20) })),
    });
  }
  private send(m: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }
}

async function connect(url: string, n: number, onLatency: (ms: number) => void): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from({ length: Math.min(200, n - i) }, () => new Peer(url, onLatency));
    await Promise.all(batch.map((p) => p.opened()));
    peers.push(...batch);
  }
  return peers;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? Infinity;

/** Announces at `rate` per second for STEP_SEC: p99 latency and the share answered. */
async function step(peers: Peer[], rate: number, latencies: number[]): Promise<{ rate: number; p99Ms: number; answered: number }> {
  latencies.length = 0;
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
      for (let i = 0; i < due; i++) peers[sent++ % peers.length]!.announce(5);
      if (performance.now() - start >= STEP_SEC * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await new Promise((r) => setTimeout(r, 500)); // stragglers
  return { rate, p99Ms: Number(p99(latencies).toFixed(2)), answered: Number((latencies.length / sent).toFixed(3)) };
}

function cpuSec(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function measure(kind: "peercast" | "bare", originUrl: string) {
  const latencies: number[] = [];
  const tracker = await startTracker(kind, originUrl);
  try {
    const peers = await connect(tracker.url, 200, (ms) => latencies.push(ms));
    for (const p of peers) p.announce(0); // join the swarm
    await new Promise((r) => setTimeout(r, 1000));
    const steps = [];
    for (const rate of RATES) {
      const s = await step(peers, rate, latencies);
      steps.push(s);
      console.log(`${kind}: ${rate}/s -> p99 ${s.p99Ms} ms, answered ${(s.answered * 100).toFixed(1)} %`);
      if (s.p99Ms >= 50 || s.answered < 0.99) break;
    }
    for (const p of peers) p.ws.terminate();
    const ok = steps.filter((s) => s.p99Ms < 50 && s.answered >= 0.99);
    return { maxRate: ok.at(-1)?.rate ?? 0, steps };
  } finally {
    tracker.stop();
  }
}

async function perAnnounceCost(kind: "peercast" | "bare", originUrl: string, size: number) {
  const tracker = await startTracker(kind, originUrl);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = rssMiB(tracker.pid);
    const peers = await connect(tracker.url, size, () => undefined);
    for (const p of peers) p.announce(0);
    await new Promise((r) => setTimeout(r, 2000));
    const perPeerKiB = ((rssMiB(tracker.pid) - rssBefore) * 1024) / size;
    const cpu0 = cpuSec(tracker.pid);
    const n = 3000;
    for (let i = 0; i < n; i++) {
      peers[i % peers.length]!.announce(5);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 50)); // ~2000/s, inside both limits
    }
    await new Promise((r) => setTimeout(r, 1500));
    const usPerAnnounce = ((cpuSec(tracker.pid) - cpu0) * 1e6) / n;
    for (const p of peers) p.ws.terminate();
    console.log(`${kind}: swarm of ${size}: ${usPerAnnounce.toFixed(0)} us CPU per announce, ${perPeerKiB.toFixed(1)} KiB per peer`);
    return { swarm: size, usPerAnnounce: Math.round(usPerAnnounce), kibPerPeer: Number(perPeerKiB.toFixed(1)) };
  } finally {
    tracker.stop();
  }
}

async function main(): Promise<void> {
  const origin = await fakeOrigin();
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const rate = { peercast: await measure("peercast", originUrl), bare: await measure("bare", originUrl) };
  const cost: Record<string, unknown[]> = { peercast: [], bare: [] };
  for (const size of SWARM_SIZES) {
    for (const kind of ["peercast", "bare"] as const) cost[kind]!.push(await perAnnounceCost(kind, originUrl, size));
  }
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
    setup:
      "each tracker pinned to core 0 (taskset), load generator on core 1; 200 connections in one swarm for the rate steps; announces carry 5 offers, offers are answered",
    maxRateP99Under50ms: {
      peercast: rate.peercast.maxRate,
      bare: rate.bare.maxRate,
      ratio: Number((rate.peercast.maxRate / Math.max(1, rate.bare.maxRate)).toFixed(2)),
    },
    steps: { peercast: rate.peercast.steps, bare: rate.bare.steps },
    costBySwarmSize: cost,
  };
  const dir = path.resolve(here, "../../bench/results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "announce.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
  origin.close();
  process.exit(0);
}

void main();
