#!/usr/bin/env node
// `npm start` / `npm test` / `npm run bench`: install what is missing, build, then run.
// Plain Node with no dependencies: it runs before node_modules exists.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
  const env = process.env;
  const dataDir = path.resolve(root, env.PEERCAST_DATA_DIR ?? "./data");
  const keysFile = path.resolve(root, env.PEERCAST_KEYS_FILE ?? path.join(dataDir, "keys.json"));
  const stream = env.PEERCAST_TEST_SOURCE_STREAM ?? "main";
  let key = "(in the keys file)";
  // Only to a person at a terminal: where stderr is a service's log, a key must not land there.
  if (process.stderr.isTTY) {
    try {
      const keys = JSON.parse(fs.readFileSync(keysFile, "utf8")).keys;
      key = (keys.find((k) => k.stream === stream) ?? keys[0])?.key ?? key;
    } catch {
      /* the origin reports keys file problems itself */
    }
  }
  const host = new URL(ready.publicUrl).hostname;
  const lines = [
    "",
    "Peercast is running.",
    `  Watch:          ${ready.publicUrl}/watch/${stream}`,
    `  Embed:          <script src="${ready.publicUrl}/embed.js" data-stream="${stream}"></script>`,
    `  Stream (HLS):   ${ready.publicUrl}/hls/${stream}/master.m3u8`,
    `  Dashboard:      ${ready.publicUrl}/dashboard   (operator token: ${tokenFile ?? "PEERCAST_OPERATOR_TOKEN"})`,
    `  Streams API:    ${ready.publicUrl}/api/streams`,
    `  Metrics:        ${ready.publicUrl}/metrics`,
    `  Tracker:        ws://${host}:${tracker.port} (metrics: http://${host}:${tracker.port}/metrics)`,
    "  OBS settings (Settings > Stream, Service: Custom):",
    `    Server:       rtmp://${host}:${ready.rtmpPort}/live`,
    `    Stream Key:   ${key}   (keys live in ${keysFile})`,
    env.PEERCAST_TEST_SOURCE === "0"
      ? "  Test source:    off"
      : `  Test source:    publishing to "${stream}" (start with PEERCAST_TEST_SOURCE=0 to stream to it from OBS)`,
    "  Stop with Ctrl+C.",
    "",
  ];
  process.stderr.write(lines.join("\n") + "\n");
}

/** Starts one service; resolves with its JSON "ready" log line. Its logs go to stdout. */
function startService(script, env, readyMsg) {
  const child = spawn(process.execPath, [path.join(root, script)], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
  let buffered = "";
  const ready = new Promise((resolve) => {
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      if (buffered === null) return;
      buffered = (buffered + chunk.toString()).slice(-8192);
      const line = buffered.split("\n").find((l) => l.includes(`"msg":"${readyMsg}"`));
      if (!line) return;
      buffered = null;
      resolve(JSON.parse(line));
    });
  });
  return { child, ready };
}

/** The dashboard's operator token: from the environment, or generated once into the data dir. */
function operatorToken(env) {
  if (env.PEERCAST_OPERATOR_TOKEN) return { token: env.PEERCAST_OPERATOR_TOKEN, file: undefined };
  const file = path.resolve(root, env.PEERCAST_DATA_DIR ?? "./data", "operator-token");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, randomBytes(24).toString("base64url") + "\n", { mode: 0o600 });
  }
  return { token: fs.readFileSync(file, "utf8").trim(), file };
}

async function start() {
  const env = { PEERCAST_TEST_SOURCE: "1", ...process.env };
  const operator = operatorToken(env);
  env.PEERCAST_OPERATOR_TOKEN = operator.token;
  env.PEERCAST_TRACKER_METRICS_URL ??= `http://127.0.0.1:${env.PEERCAST_TRACKER_PORT ?? 8000}/metrics`;
  const children = [];
  const stopAll = (sig) => children.forEach((c) => c.exitCode === null && c.kill(sig));
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => stopAll(sig));
  const origin = startService("origin/dist/src/main.js", env, "origin ready");
  children.push(origin.child);
  origin.child.on("exit", (code) => {
    stopAll("SIGTERM");
    process.exitCode = code ?? 1;
  });
  const ready = await origin.ready;
  const tracker = startService("tracker/dist/src/main.js", { PEERCAST_ORIGIN_URL: `http://127.0.0.1:${ready.httpPort}`, ...env }, "tracker ready");
  children.push(tracker.child);
  tracker.child.on("exit", (code) => {
    stopAll("SIGTERM");
    process.exitCode = code ?? 1;
  });
  const trackerReady = await tracker.ready;
  printBanner(ready, trackerReady, operator.file);
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
const packages = [["ffmpeg", "ffmpeg"], ["ffprobe", "ffmpeg"]];
// Real players in Debian's Chromium (never a downloaded browser), and `ip` to bring up
// loopback in the tests' own network namespace.
if (mode !== "start") packages.push(["chromium", "chromium"], ["ip", "iproute2"]);
// Real OBS under Xvfb.
if (mode === "test") packages.push(["obs", "obs-studio"], ["xvfb-run", "xvfb"], ["xauth", "xauth"]);
// infra/: Debian's nginx (edge caches, TLS, tracker shard router) run for real, promtool for
// the Prometheus configs, envsubst for the nginx templates.
if (mode === "test") packages.push(["nginx", "nginx"], ["promtool", "prometheus"], ["envsubst", "gettext-base"], ["openssl", "openssl"]);
ensureDebianPackages(packages);
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
