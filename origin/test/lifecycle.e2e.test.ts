// Session end, disk cleanup, shutdown and crash of the origin: nothing is left behind.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { descendants, ffmpegProcessesWith, startOrigin, waitFor } from "./support/origin-process.js";
import { publish } from "./support/publisher.js";
import { mediaPlaylist, streamInfo, waitForSegment, waitLive } from "./support/hls.js";

const KEY = "lifecycle-key-42x";

test("after the grace period the session ends with ENDLIST, then goes offline and its files go", async () => {
  const origin = await startOrigin({
    keys: [{ key: KEY, stream: "main" }],
    env: { PEERCAST_GRACE_SEC: "2", PEERCAST_ENDED_RETAIN_SEC: "3", PEERCAST_PLAYLIST_SEGMENTS: "3", PEERCAST_RETAIN_EXTRA_SEGMENTS: "1" },
  });
  try {
    const p = publish({ rtmpPort: origin.rtmpPort, key: KEY });
    const session = (await waitLive(origin.http, "main")).session!.id;
    const dir = path.join(origin.dataDir, "hls", "main", session, "180p");
    // Disk stays bounded: the window (3) + the margin (1), whatever the run length.
    await waitForSegment(origin.http, "main", session, "180p", 7);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length <= 5, `segments on disk: ${files.join(" ")}`);
    assert.ok(!files.includes("0.ts"), "old segments are deleted");

    await p.stop();
    const ended = await waitFor(async () => {
      const s = await streamInfo(origin.http, "main");
      return s?.state === "ended" ? s : undefined;
    }, 15_000);
    assert.ok(ended.session?.endedAt);
    await waitFor(async () => (await mediaPlaylist(origin.http, "main", session, "180p")).text.endsWith("#EXT-X-ENDLIST\n"), 10_000);
    await waitFor(async () => (await streamInfo(origin.http, "main"))?.state === "offline", 10_000);
    assert.equal((await fetch(`${origin.http}/hls/main/master.m3u8`)).status, 404);
    assert.ok(!fs.existsSync(path.join(origin.dataDir, "hls", "main", session)), "session files removed");
    assert.deepEqual(ffmpegProcessesWith(origin.dataDir), []);
  } finally {
    await origin.stop();
  }
});

test("keys are read live: a new key publishes without a restart, a revoked one is cut and refused", async () => {
  const origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }] });
  const write = (keys: { key: string; stream: string }[]) => fs.writeFileSync(origin.keysFile, JSON.stringify({ keys }));
  const added = "added-later-key-1";
  try {
    write([
      { key: KEY, stream: "main" },
      { key: added, stream: "extra" },
    ]);
    await waitFor(() => origin.logs().some((l) => l.msg === "keys reloaded"), 5000);
    const p = publish({ rtmpPort: origin.rtmpPort, key: added });
    await waitLive(origin.http, "extra");
    write([{ key: KEY, stream: "main" }]);
    assert.notEqual(await p.exited, null, "the publisher was disconnected");
    assert.ok(origin.logs().some((l) => l.reason === "stream key revoked"));
    const again = publish({ rtmpPort: origin.rtmpPort, key: added });
    await again.exited;
    assert.ok(origin.logs().some((l) => l.msg === "publish refused" && l.reason === "unknown stream key"));
    assert.ok(!origin.lines.some((l) => l.includes(added)));
  } finally {
    await origin.stop();
  }
});

test("the built-in test source goes live through the RTMP ingest without a key in any argv; playlists block for the next segment", async () => {
  const origin = await startOrigin({
    env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "426x240" },
  });
  try {
    const info = await waitLive(origin.http, "main");
    assert.equal(info.session?.renditions[0]?.height, 240);
    const keys = JSON.parse(fs.readFileSync(origin.keysFile, "utf8")) as { keys: { key: string }[] };
    // The keys file given was empty, so the test source needed no key at all.
    assert.equal(keys.keys.length, 0);
    const kids = descendants(origin.pid);
    assert.equal(kids.length, 2, "test source ffmpeg + transcoder ffmpeg");
    await blockingReload(origin.http, info.session.id, info.session.renditions[0].name);
  } finally {
    await origin.stop();
  }
});

/** Two live streams, each with its own transcoder: one from a publisher, one from the test source. */
async function twoLiveStreams() {
  const origin = await startOrigin({
    keys: [{ key: KEY, stream: "main" }],
    env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "320x180", PEERCAST_TEST_SOURCE_STREAM: "demo" },
  });
  const p = publish({ rtmpPort: origin.rtmpPort, key: KEY });
  await waitLive(origin.http, "main");
  await waitLive(origin.http, "demo");
  return { origin, p };
}

test("SIGTERM stops every ffmpeg and exits cleanly", async () => {
  const { origin, p } = await twoLiveStreams();
  try {
    assert.equal(ffmpegProcessesWith(origin.dataDir).length, 2, "one transcoder per stream");
    assert.equal(await origin.stop("SIGTERM"), 0);
    assert.ok(origin.logs().some((l) => l.msg === "stopped"));
    await waitFor(() => ffmpegProcessesWith(origin.dataDir).length === 0 && descendants(origin.pid).length === 0, 5000);
    assert.ok(!fs.existsSync(path.join(origin.dataDir, "hls", "main")), "files of ended sessions removed");
  } finally {
    await p.stop("SIGKILL");
  }
});

test("SIGKILL of the origin leaves no ffmpeg behind", async () => {
  const { origin, p } = await twoLiveStreams();
  try {
    const children = ffmpegProcessesWith(origin.dataDir);
    assert.equal(children.length, 2);
    await origin.stop("SIGKILL");
    // Transcoders end on EOF of their input pipe; the test source when its RTMP peer is gone.
    await waitFor(
      () => children.every((pid) => !fs.existsSync(`/proc/${pid}`)),
      10_000,
      () => JSON.stringify(children.filter((pid) => fs.existsSync(`/proc/${pid}`))),
    );
  } finally {
    await p.stop("SIGKILL");
  }
});

/** A player asking for a segment not made yet gets the playlist the moment it is; bad asks, 400. */
async function blockingReload(http: string, session: string, rendition: string): Promise<void> {
  const p = await waitForSegment(http, "main", session, rendition, 1);
  assert.match(p.text, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES/);
  const last = Number(p.segments.at(-1)!.slice(0, -3));
  const url = `${http}/hls/main/${session}/${rendition}/index.m3u8`;
  const asked = Date.now();
  // Two segments ahead: at least one segment's time away (2 s), less than three target durations.
  const res = await fetch(`${url}?_HLS_msn=${last + 2}`);
  const waited = Date.now() - asked;
  assert.equal(res.status, 200);
  assert.ok((await res.text()).includes(`\n${last + 2}.ts`), "the playlist lists the segment asked for");
  assert.ok(waited > 1000 && waited < 6000, `blocked ${waited} ms`);
  for (const [query, why] of [
    [`_HLS_msn=${last + 9}`, /more than two segments after/],
    ["_HLS_msn=abc", /_HLS_msn must be a segment number/],
    ["_HLS_part=1", /_HLS_part needs _HLS_msn/],
  ] as const) {
    const bad = await fetch(`${url}?${query}`);
    assert.equal(bad.status, 400, query);
    assert.match(await bad.text(), why);
  }
}
