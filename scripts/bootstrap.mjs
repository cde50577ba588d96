#!/usr/bin/env node
// `npm start` / `npm test` / `npm run bench`: install what is missing, build, then run.
// Plain Node with no dependencies: it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSupervisor, stopOnSignals } from "./supervisor.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const mode = process.argv[2];
const say = (msg) => process.stderr.write(`[peercast] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) {
    say(`failed: ${cmd} ${args.join(" ")}`);
    process.exit(r.status ?? 1);
  }
}

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

/** Debian packages the system needs, by the command that proves each is there. */
function ensureDebianPackages(packages) {
  const missing = [...new Set(packages.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    say(`missing Debian packages: ${missing.join(" ")}. Install them with: sudo apt-get install ${missing.join(" ")}`);
    process.exit(1);
  }
  say(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], { env });
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
}

function ensureNodeModules() {
  if (fs.existsSync(path.join(root, "node_modules", ".package-lock.json"))) return;
  say("installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

function build() {
  run("npm", ["run", "--silent", "build"]); // the root package.json's build script: one list of steps
}

/** Prints where to point OBS and viewers once the origin says it is ready. */
function printBanner(ready, tracker, tokenFile) {
  // As the origin read its config: the stream the test source holds, and the keys file.
  const { enabled: testSource, stream } = ready.testSource;
  const keysFile = path.resolve(root, ready.keysFile);
  // OBS gets a stream the test source does not hold (a first start makes one: "obs").
  let keys = [];
  try {
    keys = JSON.parse(fs.readFileSync(keysFile, "utf8")).keys;
  } catch {
    /* the origin reports keys file problems itself */
  }
  const obs = keys.find((k) => !testSource || k.stream !== stream);
  // The key itself only to a person at a terminal: where stderr is a log, a key must not land there.
  const key = obs ? (process.stderr.isTTY ? obs.key : "(in the keys file)") : undefined;
  const host = new URL(ready.publicUrl).hostname;
  const lines = [
    "",
    "Peercast is running.",
    `  Watch:          ${ready.publicUrl}/watch/${stream}`,
    `  Embed:          <script src="${ready.publicUrl}/embed.js" data-stream="${stream}"></script>`,
    `  Stream (HLS):   ${ready.publicUrl}/hls/${stream}/master.m3u8`,
    `  Dashboard:      ${ready.publicUrl}/dashboard   (operator token: ${tokenFile ?? "PEERCAST_OPERATOR_TOKEN"})`,
    `  Streams API:    ${ready.publicUrl}/api/streams`,
    `  Metrics:        http://127.0.0.1:${ready.metricsPort}/metrics   (Prometheus; loopback only unless PEERCAST_METRICS_HOST says otherwise)`,
    `  Tracker:        ws://${host}:${tracker.port} (metrics: http://${tracker.metricsHost === "0.0.0.0" ? host : tracker.metricsHost}:${tracker.metricsPort}/metrics)`,
    testSource ? `  Test source:    publishing to "${stream}"` : "  Test source:    off",
    `  OBS settings (Settings > Stream, Service: Custom)${testSource ? ", a stream beside the test source" : ""}:`,
    `    Server:       rtmp://${host}:${ready.rtmpPort}/live`,
    ...(obs
      ? [`    Stream Key:   ${key}   (keys live in ${keysFile})`, `    Then watch:   ${ready.publicUrl}/watch/${obs.stream}`]
      : [
          `    Stream Key:   none for a stream other than "${stream}", which the test source holds: add one in the dashboard or in ${keysFile}, or start with PEERCAST_TEST_SOURCE=0`,
        ]),
    "  Stop with Ctrl+C.",
    "",
  ];
  process.stderr.write(lines.join("\n") + "\n");
}

async function start() {
  const env = { PEERCAST_TEST_SOURCE: "1", ...process.env };
  // The origin generates the operator token into its data dir when none is set.
  const tokenFile = env.PEERCAST_OPERATOR_TOKEN ? undefined : path.resolve(root, env.PEERCAST_DATA_DIR ?? "./data", "operator-token");
  env.PEERCAST_TRACKER_METRICS_URL ??= `http://127.0.0.1:${env.PEERCAST_TRACKER_METRICS_PORT ?? 8001}/metrics`;
  // The launcher reads its services' JSON lines (their ready line) and shows them readable on a
  // terminal, unless PEERCAST_LOG_FORMAT says otherwise (a value that is none of these, the
  // services refuse, naming the variable).
  const logFormat = env.PEERCAST_LOG_FORMAT ?? "auto";
  let format;
  if (["auto", "json", "pretty"].includes(logFormat)) {
    env.PEERCAST_LOG_FORMAT = "json";
    if (logFormat === "pretty" || (logFormat === "auto" && process.stdout.isTTY)) format = (await import("@peercast/origin/service")).readableLogLines();
  }
  // A crashed service is restarted (scripts/supervisor.mjs); everything stops on Ctrl+C or SIGTERM.
  const supervisor = createSupervisor({ log: say, format });
  stopOnSignals(supervisor);
  const service = (name, script, serviceEnv) =>
    supervisor.start({ name, args: [path.join(root, script)], cwd: root, env: serviceEnv, readyMsg: `${name} ready` }).ready;
  try {
    const ready = await service("origin", "origin/dist/src/main.js", env);
    // The origin's port is fixed by its config: a restarted origin is at this same URL.
    const tracker = await service("tracker", "tracker/dist/src/main.js", { PEERCAST_ORIGIN_URL: `http://127.0.0.1:${ready.httpPort}`, ...env });
    printBanner(ready, tracker, tokenFile);
  } catch {
    /* a service could not start: the supervisor said which and is stopping everything */
  }
}

/**
 * The compose test's base image (infra/test/compose.e2e.test.ts). No image registry is reachable
 * here, so: a Debian bookworm root filesystem from Debian's packages with what the images install
 * (ffmpeg, nginx, coturn, Prometheus) and this machine's Node (Debian's is 18), as a tarball the
 * test imports into its own dockerd. Built once per machine, while the network is there, and
 * reused while it exists (delete it to rebuild).
 */
function ensureContainerBase() {
  const tarball = process.env.PEERCAST_BASE_ROOTFS ?? "/var/cache/peercast/base-bookworm.tar";
  if (fs.existsSync(tarball)) return;
  if (process.getuid?.() !== 0) {
    say(`no container base at ${tarball}, and building it (debootstrap) needs root: the compose test will fail`);
    return;
  }
  say(`building the containers' base root filesystem, once per machine (debootstrap bookworm): ${tarball}`);
  fs.mkdirSync(path.dirname(tarball), { recursive: true });
  const dir = fs.mkdtempSync(`${tarball}.rootfs-`);
  let failed = false;
  const mirror = "http://deb.debian.org/debian";
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" };
  const step = (cmd, args) => {
    const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"], env });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status ?? r.signal}`);
  };
  try {
    step("debootstrap", ["--variant=minbase", "bookworm", dir, mirror]);
    fs.writeFileSync(
      path.join(dir, "etc/apt/sources.list"),
      [`deb ${mirror} bookworm main`, `deb ${mirror} bookworm-updates main`, `deb ${mirror}-security bookworm-security main`, ""].join("\n"),
    );
    // Packages' scripts must not start services in the chroot.
    fs.writeFileSync(path.join(dir, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    fs.copyFileSync("/etc/resolv.conf", path.join(dir, "etc/resolv.conf"));
    const apt = (...args) => step("chroot", [dir, "apt-get", "-qq", "-o", "APT::Sandbox::User=root", ...args]);
    apt("update");
    apt("install", "-y", "--no-install-recommends", "ffmpeg", "nginx", "gettext-base", "coturn", "prometheus");
    apt("clean");
    fs.rmSync(path.join(dir, "usr/sbin/policy-rc.d"));
    fs.writeFileSync(path.join(dir, "etc/resolv.conf"), ""); // docker writes its own
    for (const d of ["var/lib/apt/lists", "dev", "proc", "sys"]) {
      for (const f of fs.readdirSync(path.join(dir, d))) fs.rmSync(path.join(dir, d, f), { recursive: true, force: true });
    }
    // The Node running this (20, as the package requires): its shared libraries must be there too.
    const libs = [...spawnSync("ldd", [process.execPath], { encoding: "utf8" }).stdout.matchAll(/=> (\/\S+)/g)].map((m) => m[1]);
    const missing = libs.filter((lib) => !fs.existsSync(path.join(dir, lib)));
    if (missing.length > 0) throw new Error(`${process.execPath} needs ${missing.join(", ")}, missing in the base`);
    fs.copyFileSync(process.execPath, path.join(dir, "usr/local/bin/node"));
    fs.chmodSync(path.join(dir, "usr/local/bin/node"), 0o755);
    step("tar", ["--numeric-owner", "-C", dir, "-cf", `${tarball}.tmp`, "."]);
    fs.renameSync(`${tarball}.tmp`, tarball);
  } catch (e) {
    say(`building the container base failed: ${e.message}`);
    fs.rmSync(`${tarball}.tmp`, { force: true });
    failed = true;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true }); // hundreds of MB, whatever happened
  }
  // Only now: process.exit() in the catch would skip the finally and leave the tree behind.
  if (failed) process.exit(1);
}

/**
 * Runs the tests in a network namespace of their own with only loopback: nothing they start
 * (browsers, OBS, ffmpeg) can reach another host, whatever it tries.
 */
function runIsolated(command) {
  const userns = process.getuid?.() === 0 ? [] : ["-r"]; // unprivileged: map ourselves to root
  run("unshare", [...userns, "-n", "sh", "-c", `ip link set lo up && ${command}`]);
}

if (!["start", "test", "bench", "loadtest"].includes(mode)) {
  say("usage: bootstrap.mjs start|test|bench|loadtest [loadtest flags]");
  process.exit(2);
}
const packages = [
  ["ffmpeg", "ffmpeg"],
  ["ffprobe", "ffmpeg"],
];
// Real players in Debian's Chromium (never a downloaded browser), and `ip` to bring up
// loopback in the tests' own network namespace.
if (mode !== "start") packages.push(["chromium", "chromium"], ["ip", "iproute2"]);
// Real OBS under Xvfb.
if (mode === "test") packages.push(["obs", "obs-studio"], ["xvfb-run", "xvfb"], ["xauth", "xauth"]);
// infra/: Debian's nginx (edge caches, TLS, tracker shard router) run for real, promtool for
// the Prometheus configs, envsubst for the nginx templates.
if (mode === "test") packages.push(["nginx", "nginx"], ["promtool", "prometheus"], ["envsubst", "gettext-base"], ["openssl", "openssl"]);
// The load test's emulated access links (loadtest/src/net/): NATs in namespaces, the user-space
// switch, and the players' STUN server there (coturn).
if (mode === "test" || mode === "loadtest") packages.push(["iptables", "iptables"], ["python3", "python3"], ["turnserver", "coturn"]);
// infra/'s compose test: Debian's Docker Engine and docker-compose, debootstrap for its base
// image (no image registry is reachable), coturn (the STUN server's command, run here too).
if (mode === "test") packages.push(["dockerd", "docker.io"], ["docker-compose", "docker-compose"], ["debootstrap", "debootstrap"], ["turnserver", "coturn"]);
ensureDebianPackages(packages);
if (mode === "test") ensureContainerBase();
ensureNodeModules();
build();
if (mode === "start") void start();
else if (mode === "test") runIsolated("npm run test --workspaces");
// Benchmarks run isolated too: the tracker's opens thousands of loopback sockets.
else if (mode === "bench") runIsolated("npm run bench --workspaces --if-present");
else loadtest(process.argv.slice(3));

/** Against a system of its own: isolated; against `--origin URL`: on the host's network. */
function loadtest(args) {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const command = `node loadtest/dist/src/cli.js ${quoted}`;
  if (args.some((a) => a === "--origin" || a.startsWith("--origin="))) run("sh", ["-c", command]);
  else runIsolated(command);
}
