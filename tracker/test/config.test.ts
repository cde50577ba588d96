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
  assert.deepEqual(loadConfig({ PEERCAST_ORIGIN_URL: "http://origin-0:8080/, http://origin-1:8080" }).originUrls, ["http://origin-0:8080", "http://origin-1:8080"]);
  assert.equal(c.limits.maxMessageBytes, 65536);
  assert.ok(c.limits.swarmsPerConnection >= 3, "at least a ladder's renditions");
});

test("invalid values name the variable, and the tracker refuses to start", () => {
  assert.throws(() => loadConfig({ PEERCAST_TRACKER_PORT: "http" }), /PEERCAST_TRACKER_PORT/);
  assert.throws(() => loadConfig({ PEERCAST_ORIGIN_URL: "not a url" }), /PEERCAST_ORIGIN_URL/);
  assert.throws(() => loadConfig({ PEERCAST_ORIGIN_URL: "http://origin-0:8080,ftp://origin-1" }), /PEERCAST_ORIGIN_URL/);
  const main = fileURLToPath(new URL("../src/main.js", import.meta.url));
  const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, PEERCAST_TRACKER_MESSAGES_PER_SEC: "-1" }, encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /peercast tracker: invalid configuration:[\s\S]*PEERCAST_TRACKER_MESSAGES_PER_SEC/);
});
