// The RTMP connection limits and the ffmpeg restart window: defaults, overrides, and bad values
// refused naming the variable.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../src/config.js";

test("defaults: 8 RTMP connections per address, 3 s to handshake, 5 ffmpeg restarts per 10 minutes", () => {
  const c = loadConfig({});
  assert.equal(c.rtmp.maxConnectionsPerAddress, 8);
  assert.equal(c.rtmp.handshakeTimeoutMs, 3000);
  assert.equal(c.rtmp.publishTimeoutMs, 10_000);
  assert.equal(c.transcode.maxRestarts, 5);
  assert.equal(c.transcode.restartWindowSec, 600);
});

test("overrides are read", () => {
  const c = loadConfig({
    PEERCAST_RTMP_CONNECTIONS_PER_IP: "2",
    PEERCAST_RTMP_HANDSHAKE_TIMEOUT_MS: "1500",
    PEERCAST_FFMPEG_RESTART_WINDOW_SEC: "3600",
  });
  assert.equal(c.rtmp.maxConnectionsPerAddress, 2);
  assert.equal(c.rtmp.handshakeTimeoutMs, 1500);
  assert.equal(c.transcode.restartWindowSec, 3600);
});

test("bad values are refused naming the variable", () => {
  assert.throws(() => loadConfig({ PEERCAST_RTMP_CONNECTIONS_PER_IP: "0" }), /PEERCAST_RTMP_CONNECTIONS_PER_IP/);
  assert.throws(() => loadConfig({ PEERCAST_RTMP_HANDSHAKE_TIMEOUT_MS: "soon" }), /PEERCAST_RTMP_HANDSHAKE_TIMEOUT_MS/);
  assert.throws(() => loadConfig({ PEERCAST_FFMPEG_RESTART_WINDOW_SEC: "0" }), /PEERCAST_FFMPEG_RESTART_WINDOW_SEC/);
  assert.throws(() => loadConfig({ PEERCAST_FFMPEG_RESTART_WINDOW_SEC: "1.5" }), /PEERCAST_FFMPEG_RESTART_WINDOW_SEC/);
});
