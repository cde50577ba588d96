// The deployment files checked with what runs here: the compose file and Dockerfiles against
// the packages (commands identical to what the tests run, images' health checks run against the
// real processes), `nginx -t` on every shipped nginx config, `promtool check config`, the
// Kubernetes manifests against the Kubernetes schemas (kubernetes-models), and the Grafana
// dashboard's metric names against the real /metrics of an origin and a tracker.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import * as models from "kubernetes-models";
import { ORIGIN_MAIN, startOrigin, waitFor, type OriginHandle } from "@peercast/origin/testing";
import { freePort } from "@peercast/player/testing";
import { startTracker, type TrackerHandle } from "@peercast/tracker/testing";
import { dockerfile, REPO_DIR, yamlDocs } from "./support/files.js";
import { checkNginx, INFRA_DIR, START_NGINX, startNginx } from "./support/nginx.js";
import { stunRequest } from "./support/stun.js";

let origin: OriginHandle;
let tracker: TrackerHandle;

before(async () => {
  origin = await startOrigin();
  tracker = await startTracker(origin.http);
});

after(async () => {
  await tracker?.stop();
  await origin?.stop();
});

const rel = (file: string) => path.relative(REPO_DIR, file);
const envOf = (list: { name: string; value: string }[]) => Object.fromEntries(list.map((e) => [e.name, e.value]));
/** The packages' own config loaders: an env a manifest sets must pass them. */
const loaders = async () => ({
  origin: ((await import(pathToFileURL(path.join(REPO_DIR, "origin/dist/src/config.js")).href)) as { loadConfig(e: object): unknown }).loadConfig,
  tracker: ((await import(pathToFileURL(path.join(REPO_DIR, "tracker/dist/src/config.js")).href)) as { loadConfig(e: object): unknown }).loadConfig,
});
const TRACKER_MAIN = path.join(REPO_DIR, "tracker/dist/src/main.js");
/** Exit status, or null when killed at `timeoutMs` (without blocking the event loop). */
const spawnAsync = (cmd: string, args: string[], timeoutMs: number) =>
  new Promise<number | null>((resolve) => {
    const p = spawn(cmd, args, { stdio: "ignore" });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("exit", (code) => (clearTimeout(timer), resolve(code)));
  });

test("Dockerfiles: Debian-based, non-root, health checks that pass against the real services, the tests' commands", () => {
  const origin_ = dockerfile("docker/origin.Dockerfile");
  const tracker_ = dockerfile("docker/tracker.Dockerfile");
  const edge = dockerfile("docker/edge.Dockerfile");
  const stun = dockerfile("docker/stun.Dockerfile");
  const prometheus = dockerfile("docker/prometheus.Dockerfile");
  for (const d of [origin_, tracker_, edge, stun, prometheus]) {
    assert.ok(d.images.length > 0 && d.images.every((f) => /bookworm/.test(f)), `Debian bookworm images by default: ${d.images.join(", ")}`);
    assert.ok(
      d.from.some((f) => f.startsWith("${BASE}")),
      "the runtime base is a build argument (the compose test builds its own)",
    );
    assert.ok(d.user && d.user !== "root" && d.user !== "0", "runs as an unprivileged user");
    assert.ok(d.healthcheck.length > 0, "has a health check");
    // A base that has the packages already (the offline one) must not need apt.
    for (const r of d.run.filter((r) => r.includes("apt-get"))) assert.match(r, /^\(?command -v .*\|\| \(apt-get update/, `apt only when missing: ${r}`);
  }
  assert.ok(
    origin_.run.some((r) => /apt-get install .*\bffmpeg\b/.test(r)),
    "ffmpeg from Debian's package",
  );
  assert.ok(
    edge.run.some((r) => /apt-get install .*\bnginx\b/.test(r)),
    "nginx from Debian's package",
  );
  assert.ok(
    stun.run.some((r) => /apt-get install .*\bcoturn\b/.test(r)),
    "coturn from Debian's package",
  );
  assert.ok(
    prometheus.run.some((r) => /apt-get install .*\bprometheus\b/.test(r)),
    "Prometheus from Debian's package",
  );
  for (const d of [origin_, tracker_]) assert.deepEqual(d.args.APP_FROM, "source", "built from source with npm unless told otherwise");
  // The commands the tests run (origin and tracker harnesses, start-nginx.sh), from the repository root.
  assert.deepEqual(origin_.cmd, ["node", rel(ORIGIN_MAIN)]);
  assert.deepEqual(tracker_.cmd, ["node", rel(TRACKER_MAIN)]);
  assert.deepEqual(edge.cmd, ["sh", `/srv/peercast/${rel(START_NGINX)}`]);

  // The images' health checks, run here against the real processes, and against a closed port.
  const run = (cmd: string[], env: Record<string, string>) =>
    spawnSync(cmd[0]!, cmd.slice(1), { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 }).status;
  assert.equal(run(origin_.healthcheck, { PEERCAST_HTTP_PORT: new URL(origin.http).port }), 0);
  assert.equal(run(tracker_.healthcheck, { PEERCAST_TRACKER_PORT: new URL(tracker.http).port }), 0);
  assert.equal(run(edge.healthcheck, { PEERCAST_NGINX_LISTEN: `127.0.0.1:${new URL(origin.http).port}` }), 0);
  assert.notEqual(run(origin_.healthcheck, { PEERCAST_HTTP_PORT: "1" }), 0);
  assert.notEqual(run(tracker_.healthcheck, { PEERCAST_TRACKER_PORT: "1" }), 0);
  assert.notEqual(run(edge.healthcheck, { PEERCAST_NGINX_LISTEN: "1" }), 0);
});

test("compose: the services, the images' commands, env the packages accept, ports that match", async () => {
  const [compose] = yamlDocs("compose.yaml");
  const s = compose!.services as Record<string, any>;
  assert.deepEqual(Object.keys(s).sort(), ["edge", "grafana", "origin", "prometheus", "stun", "tracker"]);
  for (const [name, file] of [
    ["origin", "origin"],
    ["tracker", "tracker"],
    ["edge", "edge"],
    ["stun", "stun"],
  ] as const) {
    assert.equal(s[name].build.dockerfile, `infra/docker/${file}.Dockerfile`);
    assert.ok(fs.existsSync(path.join(INFRA_DIR, s[name].build.context, s[name].build.dockerfile)), `${name}: its Dockerfile exists`);
    assert.deepEqual(s[name].command, dockerfile(`docker/${file}.Dockerfile`).cmd, `${name}: the image's own command`);
  }
  const { origin: originConfig, tracker: trackerConfig } = await loaders();
  const resolved = (env: Record<string, string>) =>
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1")]));
  originConfig(resolved(s.origin.environment));
  trackerConfig(resolved(s.tracker.environment));
  assert.equal(s.tracker.environment.PEERCAST_ORIGIN_URL, `http://origin:${s.origin.environment.PEERCAST_HTTP_PORT}`);
  assert.equal(s.edge.environment.PEERCAST_NGINX_ORIGIN, `origin:${s.origin.environment.PEERCAST_HTTP_PORT}`);
  assert.equal(s.edge.environment.PEERCAST_NGINX_TRACKERS, `tracker:${s.tracker.environment.PEERCAST_TRACKER_PORT}`);
  assert.deepEqual(s.edge.ports, [
    `${s.edge.environment.PEERCAST_NGINX_LISTEN}:${s.edge.environment.PEERCAST_NGINX_LISTEN}`,
    `${s.edge.environment.PEERCAST_NGINX_TLS_LISTEN}:${s.edge.environment.PEERCAST_NGINX_TLS_LISTEN}`,
  ]);
  assert.deepEqual(s.origin.ports, [`${s.origin.environment.PEERCAST_RTMP_PORT}:${s.origin.environment.PEERCAST_RTMP_PORT}`]);
  // Metrics listeners: reachable on the compose network (Prometheus, the origin's dashboard),
  // declared but never published to the host.
  const trackerMetrics = `tracker:${s.tracker.environment.PEERCAST_TRACKER_METRICS_PORT}`;
  const originMetrics = `origin:${s.origin.environment.PEERCAST_METRICS_PORT}`;
  assert.equal(s.tracker.environment.PEERCAST_TRACKER_METRICS_HOST, "0.0.0.0");
  assert.equal(s.origin.environment.PEERCAST_METRICS_HOST, "0.0.0.0");
  assert.deepEqual(s.tracker.expose, [s.tracker.environment.PEERCAST_TRACKER_METRICS_PORT]);
  assert.deepEqual(s.origin.expose, [s.origin.environment.PEERCAST_METRICS_PORT]);
  assert.equal(s.tracker.ports, undefined, "nothing of the tracker's published: players reach it through the edge");
  assert.ok(!(s.origin.ports as string[]).some((p) => p.includes(s.origin.environment.PEERCAST_METRICS_PORT)), "the origin's metrics port is not published");
  assert.equal(s.origin.environment.PEERCAST_TRACKER_METRICS_URL, `http://${trackerMetrics}/metrics`);
  const targets = (yamlDocs("prometheus/prometheus.yml")[0]!.scrape_configs as { static_configs: { targets: string[] }[] }[]).map(
    (j) => j.static_configs[0]!.targets,
  );
  assert.deepEqual(targets, [[originMetrics], [trackerMetrics]], "Prometheus scrapes the metrics listeners");
  for (const name of ["prometheus", "grafana"]) assert.ok(s[name].healthcheck?.test, `${name}: health check`);
  const prom = s.prometheus.volumes[0] as string;
  assert.ok(fs.existsSync(path.join(INFRA_DIR, prom.split(":")[0]!)), "Prometheus config mounted from infra/");
  for (const v of s.grafana.volumes.slice(0, 2) as string[]) assert.ok(fs.existsSync(path.join(INFRA_DIR, v.split(":")[0]!)));
  assert.deepEqual(s.grafana.profiles, ["grafana"], "Grafana (not a Debian package) only when asked for");
  // The players' ICE server is the stun service, on the UDP port it listens on and publishes.
  const stunPort = /--listening-port=(\d+)/.exec(s.stun.command.join(" "))![1];
  assert.deepEqual(s.stun.ports, [`${stunPort}:${stunPort}/udp`]);
  const ice = JSON.parse(resolved(s.origin.environment).PEERCAST_ICE_SERVERS!) as { urls: string }[];
  assert.deepEqual(ice, [{ urls: `stun:localhost:${stunPort}` }]);
  assert.match(s.origin.environment.PEERCAST_ICE_SERVERS, /stun:\$\{PEERCAST_STUN_HOST:-localhost\}:/, "the host viewers reach is the operator's to set");
});

test("STUN server: the image's command answers binding requests and relays nothing (Debian's coturn, here); its health check sees it", async () => {
  const stun = dockerfile("docker/stun.Dockerfile");
  assert.ok(stun.cmd.includes("--stun-only"));
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-stun-"));
  // The image's command on another port, its pidfile and (unused) database here, not the host's.
  const args = [
    ...stun.cmd.slice(1).map((a) => a.replace(/^--listening-port=\d+$/, `--listening-port=${port}`)),
    `--pidfile=${dir}/turnserver.pid`,
    `--db=${dir}/turndb`,
  ];
  const proc = spawn(stun.cmd[0]!, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (c: Buffer) => (output += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const healthcheck = (p: number) => spawnAsync(stun.healthcheck[0]!, ["-p", String(p), ...stun.healthcheck.slice(1)], 4000);
  try {
    const binding = await waitFor(
      async () => (proc.exitCode === null ? stunRequest("127.0.0.1", port, "binding", 1000) : assert.fail(output)),
      10_000,
      () => output,
    );
    assert.equal(binding.type, 0x0101, "a binding success");
    assert.match(binding.mapped ?? "", /^127\.0\.0\.1:\d+$/, "the address it saw");
    assert.equal(await stunRequest("127.0.0.1", port, "allocate", 2000), undefined, "an allocation (a relay) gets no answer");
    assert.equal(await healthcheck(port), 0);
    assert.notEqual(await healthcheck(port + 1), 0, "the health check fails where no STUN server answers");
  } finally {
    proc.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("nginx -t accepts every shipped config: edge, edge with TLS, tracker and origin shards; bad input is named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-nginx-check-"));
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key, "-out", cert, "-subj", "/CN=localhost"], {
    stdio: "ignore",
  });
  // The Kubernetes origin shards, with the cluster's names pointed at loopback (nginx resolves them).
  const shards = yamlDocs("k8s/edge.yaml").find((d) => d.kind === "ConfigMap" && d.metadata.name === "edge-origin-shards")!.data as Record<string, string>;
  const shardsDir = path.join(dir, "origins");
  fs.mkdirSync(shardsDir);
  for (const [name, text] of Object.entries(shards))
    fs.writeFileSync(path.join(shardsDir, name), text.replace(/[a-z0-9.-]+\.svc\.cluster\.local/g, "127.0.0.1"));
  const variants: Record<string, string>[] = [
    {},
    { PEERCAST_NGINX_TLS_CERT: cert, PEERCAST_NGINX_TLS_KEY: key },
    { PEERCAST_NGINX_TRACKERS: "127.0.0.1:8001,127.0.0.1:8002,localhost:8003", PEERCAST_NGINX_ORIGINS_DIR: shardsDir, PEERCAST_NGINX_LISTEN: "[::1]:8080" },
  ];
  for (const env of variants) {
    const r = checkNginx(env);
    assert.equal(r.status, 0, `${JSON.stringify(env)}: ${r.output}`);
  }
  const bad: [Record<string, string>, RegExp][] = [
    [{ PEERCAST_NGINX_TRACKERS: "127.0.0.1" }, /PEERCAST_NGINX_TRACKERS: expected host:port/],
    [{ PEERCAST_NGINX_ORIGIN: "http://origin" }, /PEERCAST_NGINX_ORIGIN: expected host:port/],
    [{ PEERCAST_NGINX_LISTEN: "eighty" }, /PEERCAST_NGINX_LISTEN/],
    [{ PEERCAST_NGINX_TLS_CERT: cert }, /PEERCAST_NGINX_TLS_CERT and PEERCAST_NGINX_TLS_KEY/],
    [{ PEERCAST_NGINX_CACHE_SIZE: "lots" }, /PEERCAST_NGINX_CACHE_SIZE/],
    [{ PEERCAST_NGINX_ACCESS_LOG: "/tmp/a.log; error_log x" }, /PEERCAST_NGINX_ACCESS_LOG: expected a file path or off/],
  ];
  for (const [env, message] of bad) {
    const r = checkNginx(env);
    assert.equal(r.status, 2, JSON.stringify(env));
    assert.match(r.output, message);
  }
  const noPrefix = spawnSync("sh", [START_NGINX], { env: { PATH: process.env.PATH }, encoding: "utf8" });
  assert.match(noPrefix.stderr, /PEERCAST_NGINX_PREFIX is required/);
});

test("PEERCAST_NGINX_ACCESS_LOG: off starts an edge that serves and logs nothing; a path gets the peercast format", async () => {
  const env = { PEERCAST_NGINX_ORIGIN: new URL(origin.http).host, PEERCAST_NGINX_TRACKERS: new URL(tracker.http).host };
  for (const accessLog of ["off", undefined]) {
    const edge = await startNginx(await freePort(), accessLog ? { ...env, PEERCAST_NGINX_ACCESS_LOG: accessLog } : env);
    try {
      const res = await fetch(`${edge.http}/api/streams`);
      assert.equal(res.status, 200, `through the edge (access log ${accessLog ?? "a file"})`);
      await res.arrayBuffer();
      if (accessLog === "off") {
        assert.deepEqual(
          fs.readdirSync(edge.prefix).filter((f) => /^(off|access\.log)$/.test(f)),
          [],
          "no access log file",
        );
      } else {
        // nginx writes the line after the response: wait for it rather than race it.
        await waitFor(
          () => edge.accessLog().some((l) => /"GET \/api\/streams HTTP\/1\.1" 200 \d+ cache=/.test(l)),
          5000,
          () => edge.accessLog().join("\n"),
        );
      }
    } finally {
      await edge.stop();
    }
  }
});

test("promtool accepts the compose and the Kubernetes Prometheus configs; both scrape origins and trackers", () => {
  const k8s = yamlDocs("k8s/prometheus.yaml").find((d) => d.kind === "ConfigMap")!.data["prometheus.yml"] as string;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "peercast-prom-")), "prometheus.yml");
  fs.writeFileSync(file, k8s);
  for (const f of [path.join(INFRA_DIR, "prometheus/prometheus.yml"), file]) {
    const r = spawnSync("promtool", ["check", "config", f], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
  const jobs = (yamlDocs("prometheus/prometheus.yml")[0]!.scrape_configs as { job_name: string }[]).map((j) => j.job_name);
  assert.deepEqual(jobs, ["peercast-origin", "peercast-tracker"]);
  // Kubernetes: every origin and tracker pod, through their headless Services, on the metrics
  // port each container declares and listens on (on all interfaces: Prometheus is another pod).
  const scrape = yamlDocs("k8s/prometheus.yaml")[0]!.data["prometheus.yml"] as string;
  const docs = ["k8s/origin.yaml", "k8s/tracker.yaml"].flatMap((f) => yamlDocs(f));
  const services = docs.filter((d) => d.kind === "Service" && d.spec.clusterIP === "None");
  assert.deepEqual(
    services.map((s) => s.metadata.name),
    ["origin", "tracker"],
  );
  const metricsEnv = {
    origin: ["PEERCAST_METRICS_HOST", "PEERCAST_METRICS_PORT"],
    tracker: ["PEERCAST_TRACKER_METRICS_HOST", "PEERCAST_TRACKER_METRICS_PORT"],
  } as Record<string, [string, string]>;
  for (const svc of services) {
    const name = svc.metadata.name as string;
    const port = (svc.spec.ports as { name: string; port: number; targetPort: string }[]).find((p) => p.name === "metrics");
    assert.ok(port, `${name}: a metrics port on its headless Service`);
    assert.match(scrape, new RegExp(`names: \\[${name}\\.peercast\\.svc\\.cluster\\.local\\]\\n\\s+type: A\\n\\s+port: ${port.port}`));
    const container = docs.find((d) => d.kind === "StatefulSet" && d.metadata.name === name)!.spec.template.spec.containers[0];
    const declared = (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === port.targetPort);
    assert.equal(declared?.containerPort, port.port, `${name}: the Service's metrics port is the container's`);
    const [hostVar, portVar] = metricsEnv[name]!;
    assert.deepEqual([envOf(container.env)[hostVar], envOf(container.env)[portVar]], ["0.0.0.0", String(port.port)], `${name}: listens there`);
  }
  const broken = path.join(path.dirname(file), "broken.yml");
  fs.writeFileSync(broken, "scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n");
  assert.notEqual(spawnSync("promtool", ["check", "config", broken]).status, 0, "promtool does refuse a bad config");
});

/** The kubernetes-models class for a manifest's apiVersion and kind (apps/v1 -> models.apps.v1). */
function modelFor(doc: Record<string, any>): new (data: object) => { validate(): void } {
  const [group, version] = String(doc.apiVersion).includes("/") ? String(doc.apiVersion).split("/") : ["", String(doc.apiVersion)];
  const key = group === "" ? "v1" : group!.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());
  const ns = (models as Record<string, any>)[key]?.[group === "" ? "" : version!] ?? (group === "" ? (models as Record<string, any>).v1 : undefined);
  const model = ns?.[doc.kind];
  if (!model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  return model;
}

test("Kubernetes manifests: valid against the schemas, sized, the images' commands, shards wired consistently", async () => {
  const files = (yamlDocs("k8s/kustomization.yaml")[0]!.resources as string[]).map((f) => `k8s/${f}`);
  assert.deepEqual(
    fs
      .readdirSync(path.join(INFRA_DIR, "k8s"))
      .filter((f) => f !== "kustomization.yaml")
      .sort(),
    files.map((f) => f.slice(4)).sort(),
    "every manifest is listed",
  );
  const docs = files.flatMap((f) => yamlDocs(f));
  for (const doc of docs) {
    const Model = modelFor(doc);
    assert.doesNotThrow(() => new Model(doc).validate(), `${doc.kind} ${doc.metadata?.name}`);
  }
  // The schemas do catch mistakes.
  const statefulSet = docs.find((d) => d.kind === "StatefulSet")!;
  assert.throws(() => new (modelFor(statefulSet))({ ...statefulSet, spec: { ...statefulSet.spec, replicas: "two" } }).validate());
  assert.throws(() => modelFor({ apiVersion: "apps/v1", kind: "Deploymnet" }), /no schema/);

  const workloads = docs.filter((d) => d.kind === "StatefulSet" || d.kind === "Deployment");
  for (const w of workloads) {
    for (const c of w.spec.template.spec.containers as any[]) {
      assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${w.metadata.name}: requests`);
      assert.ok(c.resources?.limits?.memory, `${w.metadata.name}: memory limit`);
    }
  }
  const container = (name: string) => workloads.find((w) => w.metadata.name === name)!.spec.template.spec.containers[0];
  assert.deepEqual(container("origin").command, dockerfile("docker/origin.Dockerfile").cmd);
  assert.deepEqual(container("tracker").command, dockerfile("docker/tracker.Dockerfile").cmd);
  assert.deepEqual(container("edge").command, dockerfile("docker/edge.Dockerfile").cmd);
  const { origin: originConfig, tracker: trackerConfig } = await loaders();
  originConfig(envOf(container("origin").env));
  trackerConfig(envOf(container("tracker").env));

  // One Service per tracker shard, and every edge hashes over exactly those.
  const trackerSet = workloads.find((w) => w.metadata.name === "tracker")!;
  const shardServices = docs.filter((d) => d.kind === "Service" && /^tracker-\d+$/.test(d.metadata.name));
  assert.deepEqual(
    shardServices.map((s) => s.spec.selector["statefulset.kubernetes.io/pod-name"]),
    Array.from({ length: trackerSet.spec.replicas }, (_, i) => `tracker-${i}`),
  );
  const edgeEnv = envOf(container("edge").env);
  assert.deepEqual(
    edgeEnv.PEERCAST_NGINX_TRACKERS!.split(","),
    shardServices.map((s) => `${s.metadata.name}.peercast.svc.cluster.local:8000`),
  );
  assert.equal(envOf(container("origin").env).PEERCAST_TRACKER_URLS, "/tracker/{stream}", "players ask their edge, which picks the shard");
  // Every tracker shard follows every origin shard: its streams may live on any of them.
  const originSet = workloads.find((w) => w.metadata.name === "origin")!;
  assert.deepEqual(
    envOf(container("tracker").env).PEERCAST_ORIGIN_URL!.split(","),
    Array.from({ length: originSet.spec.replicas }, (_, i) => `http://origin-${i}.origin.peercast.svc.cluster.local:8080`),
  );

  // The STUN server: the image's command (STUN only), reached on UDP with the viewers' own source
  // addresses kept (else every answer names the node), and the players' ICE server.
  assert.deepEqual(container("stun").command, dockerfile("docker/stun.Dockerfile").cmd);
  const stunPort = Number(/--listening-port=(\d+)/.exec(container("stun").command.join(" "))![1]);
  assert.deepEqual(container("stun").ports, [{ name: "stun", containerPort: stunPort, protocol: "UDP" }]);
  const stunService = docs.find((d) => d.kind === "Service" && d.metadata.name === "stun")!;
  assert.equal(stunService.spec.externalTrafficPolicy, "Local");
  assert.deepEqual(stunService.spec.ports, [{ name: "stun", port: 3478, targetPort: "stun", protocol: "UDP" }]);
  const ice = JSON.parse(envOf(container("origin").env).PEERCAST_ICE_SERVERS!) as { urls: string }[];
  assert.deepEqual(
    ice.map((s) => new URL(s.urls).pathname.split(":")[1]),
    [String(stunService.spec.ports[0].port)],
    "the players' STUN server on the Service's port",
  );
  assert.ok(
    ice.every((s) => s.urls.startsWith("stun:")),
    "STUN only: no TURN relay for P2P",
  );
});

test("Grafana dashboard: the dashboard's figures, from metrics the origin and the tracker really expose", async () => {
  const dash = JSON.parse(fs.readFileSync(path.join(INFRA_DIR, "grafana/dashboards/peercast.json"), "utf8")) as {
    uid: string;
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const titles = dash.panels.map((p) => p.title);
  for (const t of [
    "Origin copies per segment",
    "Share of bytes from peers",
    "Origin egress",
    "Viewers",
    "Stalls",
    "Live latency",
    "Tracker load",
    "Refusals by reason",
  ]) {
    assert.ok(titles.includes(t), `panel ${t}`);
  }
  const exposed = new Set<string>();
  for (const url of [`${origin.metrics}/metrics`, `${tracker.metrics}/metrics`]) {
    for (const m of (await (await fetch(url)).text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exposed.add(m[1]!);
      if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exposed.add(m[1]! + s);
    }
  }
  const used = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bpeercast_[a-z_]+/g)].map((m) => m[0]))));
  assert.ok(used.size >= 15, `metrics used: ${used.size}`);
  const missing = [...used].filter((m) => !exposed.has(m));
  assert.deepEqual(missing, [], "every metric the dashboard queries exists");
  const uid = yamlDocs("grafana/provisioning/datasources/prometheus.yaml")[0]!.datasources[0].uid as string;
  const sources = new Set(
    dash.panels.flatMap((p) => [
      (p as { datasource?: { uid: string } }).datasource?.uid,
      ...p.targets.map((t) => (t as { datasource?: { uid: string } }).datasource?.uid),
    ]),
  );
  assert.deepEqual([...sources], [uid], "every panel queries the provisioned Prometheus");
});
