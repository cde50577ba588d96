import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import pino from "pino";
import { redactStreamKeys } from "../src/ingest/library-log-bridge.js";
import { KeyStore, firstKeys, keyFingerprint, writeKeysFile } from "../src/keys/key-store.js";
import { blockCodeToEpochMs, swarmIdOf } from "../src/wire/index.js";
import { waitFor } from "./support/origin-process.js";

test("keys map to streams and reload without a restart; a bad file keeps the last good keys", async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keys-")), "keys.json");
  writeKeysFile(file, { keys: [{ key: "s3cr3t-key-1", stream: "main" }] });
  const store = new KeyStore(file, pino({ level: "silent" }));
  store.start();
  try {
    assert.equal(store.streamFor("s3cr3t-key-1"), "main");
    assert.equal(store.streamFor("wrong-key-123"), undefined);
    writeKeysFile(file, { keys: [{ key: "another-key-2", stream: "second" }] });
    await waitFor(() => store.streamFor("another-key-2") === "second", 5000);
    assert.equal(store.streamFor("s3cr3t-key-1"), undefined, "revoked");
    assert.deepEqual(store.streams(), ["second"]);
    fs.writeFileSync(file, "{not json");
    store.reload();
    assert.equal(store.streamFor("another-key-2"), "second");
    fs.writeFileSync(file, JSON.stringify({ keys: [{ key: "short", stream: "Main!" }] }));
    store.reload();
    assert.equal(store.streamFor("another-key-2"), "second");
  } finally {
    store.stop();
  }
});

test("per-stream player settings live in the keys file; a listed stream is known without a key", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keys-")), "keys.json");
  writeKeysFile(file, {
    keys: [{ key: "s3cr3t-key-1", stream: "main" }],
    streams: { talks: { title: "Talks", latency: "low", p2p: false, uploadKbps: 2000 } },
  });
  const store = new KeyStore(file, pino({ level: "silent" }));
  store.start();
  try {
    assert.deepEqual(store.streams(), ["main", "talks"]);
    assert.deepEqual(store.streamSettings("talks"), { title: "Talks", latency: "low", p2p: false, uploadKbps: 2000 });
    assert.deepEqual(store.streamSettings("main"), {});
    assert.deepEqual(store.streamSettings("__proto__"), {});
    fs.writeFileSync(file, JSON.stringify({ keys: [], streams: { talks: { latency: "ultra" } } }));
    store.reload();
    assert.equal(store.streamSettings("talks").latency, "low", "an invalid file keeps the last good settings");
  } finally {
    store.stop();
  }
});

test("an invalid keys file is refused at start without echoing its values", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keys-")), "keys.json");
  fs.writeFileSync(file, JSON.stringify({ keys: [{ key: "tiny", stream: "main" }] }));
  const store = new KeyStore(file, pino({ level: "silent" }));
  assert.throws(
    () => store.start(),
    (err: Error) => /keys\.0\.key/.test(err.message) && !err.message.includes("tiny"),
  );
});

test("library log lines lose their stream keys", () => {
  const line = redactStreamKeys("RTMP session abc 127.0.0.1:5000 start push /live/s3cr3t-key-1");
  assert.equal(line, `RTMP session abc 127.0.0.1:5000 start push /live/${keyFingerprint("s3cr3t-key-1")}`);
  assert.ok(!redactStreamKeys("invalid stream path characters: app=live, name=bad$key").includes("bad$key"));
  assert.ok(!redactStreamKeys("invalid stream path characters: app=live, name= pasted key").includes("pasted key"));
  assert.match(keyFingerprint("x"), /^key#[0-9a-f]{8}$/);
});

test("wire helpers: swarm ids and the block code clock", () => {
  assert.equal(swarmIdOf("main", "S1"), "main:S1");
  const now = Date.UTC(2026, 10, 24, 12, 0, 0);
  const value = (now - 1500) % 2 ** 32;
  assert.equal(blockCodeToEpochMs(value, now), now - 1500);
});

test("a first start with the test source on gives OBS a stream of its own beside it; without it, one key", () => {
  const withSource = firstKeys({ enabled: true, stream: "main" });
  assert.deepEqual(
    withSource.keys.map((k) => [k.stream, k.label]),
    [
      ["main", "test source"],
      ["obs", "OBS"],
    ],
  );
  assert.notEqual(withSource.keys[0]!.key, withSource.keys[1]!.key);
  assert.deepEqual(
    firstKeys({ enabled: true, stream: "obs" }).keys.map((k) => k.stream),
    ["obs", "obs-studio"],
  );
  assert.deepEqual(
    firstKeys({ enabled: false, stream: "main" }).keys.map((k) => [k.stream, k.label]),
    [["main", "first key"]],
  );
  // What it writes loads as a keys file: each key publishes to its own stream.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keys-")), "keys.json");
  writeKeysFile(file, withSource);
  const store = new KeyStore(file, pino({ level: "silent" }));
  store.reload();
  assert.equal(store.streamFor(withSource.keys[1]!.key), "obs");
  assert.deepEqual(store.streams().sort(), ["main", "obs"]);
});
