// The containers as users run them: Debian's docker-compose builds infra/compose.yaml's images
// and starts origin, tracker, edge, STUN server and Prometheus on a dockerd of the test's own,
// inside the tests' network namespace. No image registry is reachable, so the images build on a
// base made from Debian's packages (npm test debootstraps it once per machine) with the app
// staged from this built checkout (APP_FROM=prebuilt); Prometheus is Debian's package too.
// ffmpeg publishes RTMP into the origin container, two Chromium viewers play through the edge
// and share segments over WebRTC with the STUN server as their ICE server, Prometheus scrapes
// both services, and `down -v` leaves no container, network or volume behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { getJson, launchChromium, publish, waitFor, type Publisher } from "@peercast/origin/testing";
import type { StreamDetailResponse, StreamListResponse } from "@peercast/origin/wire";
import { openViewer, type Viewer } from "@peercast/player/testing";
import { stageBuildContext } from "./support/build-context.js";
import { assertIsolatedNetwork, DOCKER_PATH, ensureImage, startDockerd, type DockerHandle } from "./support/docker.js";
import { yamlDocs } from "./support/files.js";
import { INFRA_DIR } from "./support/nginx.js";
import { stunRequest } from "./support/stun.js";

const BASE_ROOTFS = process.env.PEERCAST_BASE_ROOTFS ?? "/var/cache/peercast/base-bookworm.tar";
const BASE_IMAGE = "peercast-test-base:bookworm";
const PROJECT = "peercast-e2e";
const SERVICES = ["edge", "origin", "prometheus", "stun", "tracker"];
// Where compose.yaml publishes them, on this namespace's loopback.
const EDGE = "http://127.0.0.1:8080";
const PROMETHEUS = "http://127.0.0.1:9090";
const RTMP_PORT = 1935;
const STUN_PORT = 3478;

let docker: DockerHandle | undefined;
let work: string;
let browser: Browser | undefined;
let publisher: Publisher | undefined;
let downDone = false;
const viewers: Viewer[] = [];

/** Debian's docker-compose with BuildKit (the Dockerfiles build only the stage APP_FROM names). */
function compose(args: string[], timeoutMs: number): Promise<string> {
  const env = {
    PATH: DOCKER_PATH,
    HOME: work,
    DOCKER_HOST: docker!.host,
    DOCKER_BUILDKIT: "1",
    COMPOSE_DOCKER_CLI_BUILD: "1",
    COMPOSE_HTTP_TIMEOUT: "300",
    // What an operator sets: the address viewers reach this host by.
    PEERCAST_PUBLIC_URL: EDGE,
    PEERCAST_STUN_HOST: "127.0.0.1",
  };
  const files = ["-f", path.join(INFRA_DIR, "compose.yaml"), "-f", path.join(work, "compose.test.yaml")];
  return new Promise((resolve, reject) => {
    const proc = spawn("docker-compose", ["-p", PROJECT, ...files, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => proc.kill("SIGTERM"), timeoutMs);
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`docker-compose ${args.join(" ")}: ${code ?? signal}${signal ? ` (timed out after ${timeoutMs} ms)` : ""}\n${out.slice(-6000)}`));
    });
  });
}

/**
 * What the test changes in compose.yaml: build contexts (the staged app, the offline base),
 * Prometheus from Debian's package, the network in a documentation range, one small rendition.
 */
function testOverride(stage: string, certs: string): object {
  const build = (file: string, args: Record<string, string> = {}) => ({
    context: stage,
    dockerfile: `infra/docker/${file}.Dockerfile`,
    args: { BASE: BASE_IMAGE, ...args },
  });
  return {
    services: {
      origin: { build: build("origin", { APP_FROM: "prebuilt" }), environment: { PEERCAST_LADDER: "240p:426x240:400" } },
      tracker: { build: build("tracker", { APP_FROM: "prebuilt" }) },
      edge: { build: build("edge"), volumes: [`${certs}:/certs:ro`] },
      stun: { build: build("stun") },
      prometheus: { build: build("prometheus"), image: "peercast-test-prometheus" },
    },
    networks: { default: { ipam: { config: [{ subnet: "198.51.100.0/24" }] } } },
  };
}

interface ContainerSummary {
  Id: string;
  Labels: Record<string, string>;
  State: string;
}
const containers = () => docker!.api<ContainerSummary[]>("GET", "/containers/json?all=1");
const serviceOf = (c: ContainerSummary) => c.Labels["com.docker.compose.service"]!;

before(async () => {
  assertIsolatedNetwork();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-compose-"));
  const stage = path.join(work, "context");
  fs.mkdirSync(path.join(work, "certs"), { recursive: true });
  fs.mkdirSync(stage);
  stageBuildContext(stage);
  fs.writeFileSync(path.join(work, "compose.test.yaml"), JSON.stringify(testOverride(stage, path.join(work, "certs")), null, 2));

  docker = await startDockerd({ bip: "192.0.2.1/24", pool: "203.0.113.0/24" });
  const base = await ensureImage(docker, BASE_IMAGE, BASE_ROOTFS);
  // Whatever an interrupted run left in the kept data root goes first.
  await compose(["down", "-v", "--remove-orphans"], 120_000);
  const built = Date.now();
  await compose(["build"], 480_000);
  const up = Date.now();
  await compose(["up", "-d"], 240_000);
  console.log(JSON.stringify({ baseImage: base, buildMs: up - built, upMs: Date.now() - up }));
});

after(async () => {
  for (const v of viewers) await v.close().catch(() => {});
  await browser?.close();
  await publisher?.stop();
  if (docker) {
    if (!downDone) await compose(["down", "-v", "--rmi", "all"], 120_000).catch((e: Error) => console.log(e.message));
    // The build cache speeds up the next run; bounded, as the staged app changes with the code.
    docker.cli(["builder", "prune", "--force", "--keep-storage", "1gb"]);
    await docker.stop();
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("compose: five containers from the Debian-built images, unprivileged, their health checks pass", async () => {
  const health = async () => {
    const list = (await containers()).filter((c) => c.Labels["com.docker.compose.project"] === PROJECT);
    const states = await Promise.all(
      list.map(async (c) => {
        const info = await docker!.api<{ State: { Health?: { Status: string } }; Config: { User: string } }>("GET", `/containers/${c.Id}/json`);
        return { service: serviceOf(c), health: info.State.Health?.Status ?? "none", user: info.Config.User };
      }),
    );
    return states.sort((a, b) => a.service.localeCompare(b.service));
  };
  // A failed attempt (dockerd busy, a container going away) is a "not yet", as is an unhealthy one.
  let last: unknown;
  const states = await waitFor(
    () =>
      health().then(
        (h) => ((last = h), h.length === SERVICES.length && h.every((s) => s.health === "healthy") && h),
        (e: unknown) => void (last = String(e)),
      ),
    90_000,
    () => `for every container healthy: ${JSON.stringify(last)}\n${docker!.cli(["ps", "-a"]).stdout}`,
  );
  assert.deepEqual(
    states.map((s) => s.service),
    SERVICES,
  );
  for (const s of states) {
    // The process itself, not only the image's USER line.
    const uid = (await compose(["exec", "-T", s.service, "id", "-u"], 30_000)).trim();
    assert.notEqual(uid, "0", `${s.service} runs as root`);
    assert.ok(s.user && s.user !== "root", `${s.service}: USER ${s.user}`);
  }
});

test("ffmpeg publishes into the origin container; two viewers share segments over WebRTC, their ICE server the STUN container", async () => {
  // The key the origin generated into its data volume on first start.
  const keys = JSON.parse(await compose(["exec", "-T", "origin", "cat", "/data/keys.json"], 30_000)) as { keys: { key: string; stream: string }[] };
  const key = keys.keys.find((k) => k.stream === "main")!.key;
  publisher = publish({ rtmpPort: RTMP_PORT, key });
  let failed: unknown; // the edge or the origin behind it not answering yet is a "not yet"
  await waitFor(
    () =>
      getJson<StreamListResponse>(`${EDGE}/api/streams`).then(
        (list) => list.streams.find((s) => s.name === "main" && s.state === "live"),
        (e: unknown) => void (failed = e),
      ),
    60_000,
    () => `for the stream live through the edge: ${failed === undefined ? "not live" : inspect(failed)}\nffmpeg: ${publisher!.output()}`,
  );

  // The players are told the STUN server, and it answers them; it relays nothing.
  const detail = await getJson<StreamDetailResponse>(`${EDGE}/api/streams/main`);
  assert.deepEqual(
    detail.player.iceServers.flatMap((s) => [s.urls].flat()),
    [`stun:127.0.0.1:${STUN_PORT}`],
  );
  const binding = await stunRequest("127.0.0.1", STUN_PORT, "binding");
  assert.equal(binding?.type, 0x0101, "a STUN binding answer");
  assert.match(binding.mapped ?? "", /^\d+\.\d+\.\d+\.\d+:\d+$/, "with the address it saw");
  assert.equal(await stunRequest("127.0.0.1", STUN_PORT, "allocate", 2000), undefined, "a TURN allocation gets no answer (STUN only)");

  // Each page records its peer connections' ICE candidates: a server-reflexive one is the STUN
  // server's answer to that browser.
  const recordCandidates = `(() => {
    const Native = window.RTCPeerConnection;
    const seen = (window.__candidates = []);
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener("icecandidate", (e) => e.candidate && seen.push(e.candidate.candidate));
      }
    };
  })();`;
  browser = await launchChromium({ webrtc: true });
  for (let i = 0; i < 2; i++) viewers.push(await openViewer(browser, `${EDGE}/watch/main`, { initScript: recordCandidates }));
  await Promise.all(viewers.map((v) => v.playsOn(4, 60_000)));
  let last: unknown;
  await waitFor(
    () =>
      Promise.all(viewers.map((v) => v.stats())).then(
        (stats) => {
          last = stats.map(({ peers, p2pBytes, uploadedBytes, httpBytes }) => ({ peers, p2pBytes, uploadedBytes, httpBytes }));
          return stats.every((s) => s.peers > 0 && s.p2pBytes + s.uploadedBytes > 0) && stats.some((s) => s.p2pBytes > 0);
        },
        (e: unknown) => void (last = String(e)),
      ),
    45_000,
    () => `for P2P bytes between the viewers: ${JSON.stringify(last)}`,
  );
  const candidates = await Promise.all(viewers.map((v) => v.page.evaluate(() => (window as unknown as { __candidates: string[] }).__candidates)));
  const types = candidates.map((list) => list.map((c) => / typ (\w+)/.exec(c)?.[1]));
  console.log(
    JSON.stringify({
      viewers: last,
      candidateTypes: types.map((t) => Object.fromEntries(["host", "srflx", "relay"].map((k) => [k, t.filter((x) => x === k).length]))),
    }),
  );
  for (const [i, list] of candidates.entries()) {
    assert.ok(
      list.some((c) => / typ srflx /.test(c)),
      `viewer ${i}: a server-reflexive candidate (the STUN server's answer): ${JSON.stringify(list)}`,
    );
    assert.ok(!list.some((c) => / typ relay /.test(c)), `viewer ${i}: no relay candidate`);
  }
  for (const v of viewers) assert.deepEqual(v.errors, []);
});

test("Prometheus scrapes the origin and the tracker on their metrics listeners: every target up", async () => {
  const [file] = yamlDocs("compose.yaml");
  const env = file!.services as Record<string, { environment: Record<string, string> }>;
  const expected = [
    `http://origin:${env.origin!.environment.PEERCAST_METRICS_PORT ?? "8081"}/metrics`,
    `http://tracker:${env.tracker!.environment.PEERCAST_TRACKER_METRICS_PORT ?? "8001"}/metrics`,
  ];
  type Targets = { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
  let last: unknown;
  const targets = await waitFor(
    () =>
      getJson<Targets>(`${PROMETHEUS}/api/v1/targets`).then(
        ({ data }) => ((last = data.activeTargets), data.activeTargets.length > 0 && data.activeTargets.every((x) => x.health === "up") && data.activeTargets),
        (e: unknown) => void (last = String(e)),
      ),
    60_000,
    () => `for every target up: ${JSON.stringify(last)}`,
  );
  assert.deepEqual(targets.map((t) => t.scrapeUrl).sort(), expected);
  // And their samples are stored: one `up` series per target.
  type Query = { data: { result: { metric: Record<string, string> }[] } };
  const up = await getJson<Query>(`${PROMETHEUS}/api/v1/query?query=up`);
  assert.equal(up.data.result.length, 2);
});

test("down -v: no container, network or volume left", async () => {
  await compose(["down", "-v", "--rmi", "all"], 120_000);
  downDone = true;
  assert.deepEqual(await containers(), []);
  const networks = await docker!.api<{ Name: string }[]>("GET", "/networks");
  assert.deepEqual(networks.map((n) => n.Name).sort(), ["bridge", "host", "none"], "only the daemon's own networks");
  const volumes = await docker!.api<{ Volumes: unknown[] | null }>("GET", "/volumes");
  assert.deepEqual(volumes.Volumes ?? [], []);
  const images = await docker!.api<{ RepoTags: string[] | null }[]>("GET", "/images/json");
  assert.deepEqual(
    images.flatMap((i) => i.RepoTags ?? []),
    [BASE_IMAGE],
    "only the base image is kept",
  );
});
