// Real ffmpeg publishing RTMP into the real origin on loopback; what a player gets back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cmdline, descendants, startOrigin, waitFor, type OriginHandle } from "./support/origin-process.js";
import { ffprobeStreams, keyframeTimes, publish, type Publisher } from "./support/publisher.js";
import { fetchSegment, hashes, mediaPlaylist, sha256, streamInfo, tempFile, waitForSegment, waitLive } from "./support/hls.js";

const KEY = "valid-key-Abc123";

describe("a live stream from a real RTMP publisher", () => {
  let origin: OriginHandle;
  let publisher: Publisher;
  let session: string;
  let master: string;
  const renditions = ["240p", "180p"];

  before(async () => {
    origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }], env: { PEERCAST_GRACE_SEC: "20" } });
    publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY, size: "426x240" });
    const info = await waitLive(origin.http, "main");
    session = info.session!.id;
    for (const r of renditions) await waitForSegment(origin.http, "main", session, r, 3);
  });

  after(async () => {
    await publisher?.stop();
    await origin?.stop();
  });

  test("the API shows the session with its frozen ladder and swarm id", async () => {
    const info = await streamInfo(origin.http, "main");
    assert.equal(info?.state, "live");
    assert.deepEqual(
      info?.session?.renditions.map((r) => `${r.name}:${r.width}x${r.height}@${r.fps}`),
      ["240p:426x240@30", "180p:320x180@30"],
    );
    assert.equal(info?.session?.swarmId, `main:${session}`);
    assert.equal(info?.session?.masterPlaylist, "/hls/main/master.m3u8");
  });

  test("master playlist: attributes, content type, short cache, CORS", async () => {
    const res = await fetch(`${origin.http}/hls/main/master.m3u8`, { headers: { Origin: "https://elsewhere.example" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/vnd.apple.mpegurl");
    assert.equal(res.headers.get("cache-control"), "public, max-age=1");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    master = await res.text();
    assert.match(master, /RESOLUTION=426x240,FRAME-RATE=30\.000\n/);
    assert.match(master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    assert.ok(master.includes(`${session}/240p/index.m3u8`));
  });

  test("segments: resolution and codecs per rendition, keyframes aligned across renditions", async () => {
    const seqs = [1, 2];
    const keyframes: Record<string, number[]> = {};
    for (const r of renditions) {
      const [w, h] = r === "240p" ? [426, 240] : [320, 180];
      for (const seq of seqs) {
        const { res, bytes } = await fetchSegment(origin.http, "main", session, r, seq);
        assert.equal(res.headers.get("content-type"), "video/mp2t");
        assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
        const file = tempFile(`${r}-${seq}.ts`, bytes);
        const streams = ffprobeStreams(file);
        const v = streams.find((s) => s.codec_type === "video");
        assert.equal(v?.codec_name, "h264");
        // CODECS in the master is what was really encoded (ultrafast gives Constrained Baseline).
        const profileIdc = { High: "64", Main: "4d", "Constrained Baseline": "42" }[v?.profile ?? ""];
        const line = master.split("\n").find((l) => l.includes(`RESOLUTION=${w}x${h}`))!;
        assert.match(line, new RegExp(`CODECS="avc1\\.${profileIdc}[0-9a-f]{4},mp4a\\.40\\.2"`));
        assert.deepEqual([v?.width, v?.height], [w, h]);
        assert.equal(streams.find((s) => s.codec_type === "audio")?.codec_name, "aac");
        const k = keyframeTimes(file);
        assert.equal(k.length, 1, `${r}/${seq}: exactly one keyframe, at the start`);
        (keyframes[r] ??= []).push(...k);
      }
    }
    assert.deepEqual(keyframes["240p"], keyframes["180p"], "segment N starts at the same time in every rendition");
    assert.ok(Math.abs(keyframes["240p"]![1]! - keyframes["240p"]![0]! - 2) < 0.01, "segments are 2 s");
  });

  test("every published hash matches the bytes served, before the playlist lists the segment", async () => {
    for (const r of renditions) {
      const playlist = await mediaPlaylist(origin.http, "main", session, r);
      const list = await hashes(origin.http, "main", session, r);
      assert.equal(list.algorithm, "sha256");
      for (const name of playlist.segments) {
        const expected = list.segments[name];
        assert.ok(expected, `${r}/${name} listed without a hash`);
        const { bytes } = await fetchSegment(origin.http, "main", session, r, Number(name.slice(0, -3)));
        assert.equal(sha256(bytes), expected, `${r}/${name}`);
      }
    }
  });

  test("the origin counts every copy of a segment it serves, a byte range as its share", async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(`${origin.metrics}/metrics`)).text();
      const m = new RegExp(`${name}\\{stream="main",rendition="180p"\\} ([0-9.e-]+)`).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const count = () => Promise.all([metric("peercast_origin_segment_fetches_total"), metric("peercast_origin_segment_copies_served_total")]);
    const before = await count();
    const { bytes: whole } = await fetchSegment(origin.http, "main", session, "180p", 2);
    await fetchSegment(origin.http, "main", session, "180p", 2);
    // The rest of a segment after a peer's transfer stopped halfway: half a copy.
    const half = Math.floor(whole.length / 2);
    const url = `${origin.http}/hls/main/${session}/180p/2.ts`;
    const rest = await fetch(url, { headers: { Range: `bytes=${half}-` } });
    assert.equal(rest.status, 206);
    assert.equal(rest.headers.get("content-range"), `bytes ${half}-${whole.length - 1}/${whole.length}`);
    assert.ok(Buffer.from(await rest.arrayBuffer()).equals(whole.subarray(half)), "the range's bytes");
    // A HEAD (a cache or a player checking the size) sends no bytes: no copy.
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(whole.length));
    const after = await count();
    assert.equal(after[0] - before[0], 3, "responses");
    assert.ok(Math.abs(after[1] - before[1] - (2 + (whole.length - half) / whole.length)) < 1e-6, `copies served ${after[1] - before[1]}`);
    // Past the end: 416 and the size, nothing served; a header that does not parse: the whole segment.
    const past = await fetch(url, { headers: { Range: `bytes=${whole.length}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${whole.length}`);
    const odd = await fetch(url, { headers: { Range: "bytes=abc" } });
    assert.equal(odd.status, 200);
    assert.equal((await odd.arrayBuffer()).byteLength, whole.length);
    const text = await (await fetch(`${origin.metrics}/metrics`)).text();
    for (const name of [
      "peercast_ingest_bitrate_bps",
      "peercast_ingest_fps",
      "peercast_transcode_speed",
      "peercast_segments_produced_total",
      "peercast_http_bytes_total",
    ]) {
      assert.ok(text.includes(name), name);
    }
  });

  test("unknown names, stale sessions and path tricks get 404", async () => {
    for (const p of [
      "/hls/nosuch/master.m3u8",
      `/hls/main/${session}/1080p/index.m3u8`,
      `/hls/main/OLDSESSION/240p/index.m3u8`,
      `/hls/main/${session}/240p/999999.ts`,
      `/hls/main/${session}/240p/..%2f..%2fkeys.json`,
      `/hls/main/${session}/240p/%2e%2e/%2e%2e/%2e%2e/keys.json`,
      "/hls/../keys.json",
      "/hls/main/../../etc/passwd",
    ]) {
      const res = await fetch(`${origin.http}${p}`);
      assert.equal(res.status, 404, p);
    }
    assert.equal((await fetch(`${origin.http}/healthz`)).status, 200);
  });

  test("ffmpeg killed mid-stream: the same session continues after a discontinuity", async () => {
    const transcoder = descendants(origin.pid).find((p) => cmdline(p).includes(`/hls/main/${session}/`));
    assert.ok(transcoder, "the transcoder is a child of the origin");
    const last = (await mediaPlaylist(origin.http, "main", session, "240p")).segments.at(-1)!;
    process.kill(transcoder, "SIGKILL");
    const after = await waitFor(async () => {
      const p = await mediaPlaylist(origin.http, "main", session, "240p");
      return p.text.includes("#EXT-X-DISCONTINUITY\n") && p.segments.at(-1) !== last ? p : undefined;
    }, 30_000);
    const seqs = after.segments.map((s) => Number(s.slice(0, -3)));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0]! + i),
      "no hole in the media sequence",
    );
    assert.equal((await streamInfo(origin.http, "main"))?.session?.id, session);
    assert.match(await (await fetch(`${origin.metrics}/metrics`)).text(), /peercast_ffmpeg_restarts_total\{stream="main"\} 1/);
  });

  test("OBS drops and reconnects (at another size) within the grace period: same session and master", async () => {
    const before = await mediaPlaylist(origin.http, "main", session, "240p");
    await publisher.stop("SIGKILL");
    await waitFor(async () => (await streamInfo(origin.http, "main"))?.state === "reconnecting", 15_000);
    publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY, size: "320x180" });
    await waitFor(async () => (await streamInfo(origin.http, "main"))?.state === "live", 15_000);
    const lastBefore = Number(before.segments.at(-1)!.slice(0, -3));
    const after = await waitForSegment(origin.http, "main", session, "240p", lastBefore + 3);
    assert.equal((await streamInfo(origin.http, "main"))?.session?.id, session);
    assert.equal(await (await fetch(`${origin.http}/hls/main/master.m3u8`)).text(), master, "byte-identical master");
    assert.ok(after.mediaSequence >= before.mediaSequence);
    assert.ok(after.text.includes("#EXT-X-DISCONTINUITY"));
    const newest = Number(after.segments.at(-1)!.slice(0, -3));
    const { bytes } = await fetchSegment(origin.http, "main", session, "240p", newest);
    const v = ffprobeStreams(tempFile("after.ts", bytes)).find((s) => s.codec_type === "video");
    assert.deepEqual([v?.width, v?.height], [426, 240], "a new source size is scaled into the frozen ladder");
  });

  test("neither logs nor any process the origin started ever show the key", () => {
    assert.ok(origin.lines.length > 20);
    assert.ok(!origin.lines.some((l) => l.includes(KEY)), "a log line holds the key");
    for (const pid of descendants(origin.pid)) assert.ok(!cmdline(pid).includes(KEY), `pid ${pid} argv holds the key`);
  });
});
