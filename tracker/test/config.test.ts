import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadConfig } from "../src/config.js";

test("defaults: port 8000, the local origin (or a list of origin shards), limits on", () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.deepEqual(c.originUrls, ["http://127.0.0.1:8080"]);
  // Origin shards: a list, each checked.
  assert.deepEqual(loadConfig({ PEERCAST_ORIGIN_URL: "http://origin-0:8080/, http://origin-1:8080" }).originUrls, [
    "http://origin-0:8080",
    "http://origin-1:8080",
  ]);
  assert.equal(c.limits.maxMessageBytes, 65536);
  assert.ok(c.limits.swarmsPerConnection >= 3, "at least a ladder's renditions");
  // Metrics on a listener of their own, on loopback unless the operator opens it.
  assert.deepEqual(c.metrics, { host: "127.0.0.1", port: 8001 });
  // A campus or carrier-grade NAT's audience fits under one address; new connections are rate-limited.
  assert.equal(c.limits.connectionsPerIp, 4096);
  assert.equal(c.limits.maxConnections, 20_000, "one tracker process's sizing");
  assert.equal(c.limits.newConnectionsPerMin, 1200);
  assert.equal(c.limits.newConnectionsBurst, 200);
});

test("invalid values name the variable, and the tracker refuses to start", () => {
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_PORT: "http" }), /PEERCAST_TRACKER_PORT/);
  assert.throws(() => loadConfig({ PEERCAST_ORIGIN_URL: "not a url" }), /PEERCAST_ORIGIN_URL/);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_METRICS_PORT: "70000" }), /PEERCAST_TRACKER_METRICS_PORT/);
  assert.throws(
    () => loadConfig({ PEERCAST_TRACKER_PORT: "9000", PEERCAST_TRACKER_METRICS_PORT: "9000" }),
    /PEERCAST_TRACKER_METRICS_PORT: must differ from PEERCAST_TRACKER_PORT/,
  );
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_METRICS_PORT: "8000" }), /PEERCAST_TRACKER_METRICS_PORT/, "the default public port");
  assert.deepEqual(loadConfig({ PEERCAST_TRACKER_PORT: "0", PEERCAST_TRACKER_METRICS_PORT: "0" }).metrics.port, 0, "both ephemeral");
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: "0" }), /PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN/);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: "many" }), /PEERCAST_TRACKER_NEW_CONNECTIONS_BURST/);
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_MAX_CONNECTIONS: "0" }), /PEERCAST_TRACKER_MAX_CONNECTIONS/);
  assert.throws(() => loadConfig({ PEERCAST_ORIGIN_URL: "http://origin-0:8080,ftp://origin-1" }), /PEERCAST_ORIGIN_URL/);
  const main = fileURLToPath(new URL("../src/main.js", import.meta.url));
  const r = spawnSync(process.execPath, [main], {
    env: { PATH: process.env.PATH, PEERCAST_TRACKER_MESSAGES_PER_SEC: "-1" },
    encoding: "utf8",
    timeout: 10_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /peercast tracker: invalid configuration:[\s\S]*PEERCAST_TRACKER_MESSAGES_PER_SEC/);
});

test("docs/configuration.md lists every tracker variable as the schema describes it (npm run docs rewrites it)", async () => {
  const { envTable, withTable } = await import("@peercast/origin/service");
  const { trackerEnvSchema } = await import("../src/config.js");
  const fs = await import("node:fs");
  const page = fs.readFileSync(fileURLToPath(new URL("../../../docs/configuration.md", import.meta.url)), "utf8");
  assert.equal(page, withTable(page, "tracker", envTable(trackerEnvSchema)), "the tracker's table is stale: run npm run build && npm run docs");
  for (const name of Object.keys(trackerEnvSchema.shape)) assert.match(page, new RegExp(`\\| \`${name}\` \\|`));
});
