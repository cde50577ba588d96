import assert from "node:assert/strict";
import { test } from "node:test";
import { encodedCodecString, renderMasterPlaylist } from "../src/hls/master-playlist.js";
import { deliveryDirective } from "../src/http/app.js";
import { RenditionTrack, type Segment } from "../src/hls/media-playlist.js";
import { parseFfmpegPlaylist } from "../src/transcode/segment-watcher.js";
import { h264CodecFromTs } from "../src/hls/codec-probe.js";

const seg = (seq: number, extra: Partial<Segment> = {}): Segment => ({
  seq,
  durationSec: 2,
  startMs: Date.UTC(2026, 0, 1, 0, 0, seq * 2),
  sha256: `h${seq}`,
  data: Buffer.from("ts"),
  discontinuity: false,
  fetches: 0,
  ...extra,
});

test("the media playlist lists the window, with program date time and target duration", () => {
  const t = new RenditionTrack({ windowSize: 3, retainExtra: 2, targetDurationSec: 2 });
  for (let i = 0; i < 4; i++) t.add(seg(i));
  assert.equal(
    t.render(),
    [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
      "#EXT-X-MEDIA-SEQUENCE:1",
      "#EXT-X-DISCONTINUITY-SEQUENCE:0",
      "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z",
      "#EXTINF:2.000,",
      "1.ts",
      "#EXTINF:2.000,",
      "2.ts",
      "#EXTINF:2.000,",
      "3.ts",
      "",
    ].join("\n"),
  );
});

test("segments beyond the window are kept for slow peers, then expire for deletion", () => {
  const t = new RenditionTrack({ windowSize: 2, retainExtra: 1, targetDurationSec: 2 });
  const expired = [0, 1, 2, 3, 4].flatMap((i) => t.add(seg(i)).map((s) => s.seq));
  assert.deepEqual(expired, [0, 1]);
  assert.equal(t.get(2)?.seq, 2, "retained but unlisted");
  assert.equal(t.get(1), undefined);
  assert.deepEqual(Object.keys(t.hashes().segments), ["2.ts", "3.ts", "4.ts"]);
  assert.ok(!t.render().includes("2.ts"));
});

test("a transcoder restart is marked and counted in the discontinuity sequence", () => {
  const t = new RenditionTrack({ windowSize: 2, retainExtra: 0, targetDurationSec: 2 });
  t.add(seg(0));
  t.add(seg(1, { discontinuity: true }));
  assert.match(t.render(), /#EXT-X-DISCONTINUITY-SEQUENCE:0\n[\s\S]*#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:2.000,\n1.ts/);
  t.add(seg(2));
  t.add(seg(3));
  assert.match(t.render(), /#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
  assert.ok(!t.render().includes("#EXT-X-DISCONTINUITY\n"));
});

test("a number a rendition never produced is listed as a gap, so numbering stays dense", () => {
  const t = new RenditionTrack({ windowSize: 5, retainExtra: 0, targetDurationSec: 2 });
  t.add(seg(0));
  t.add(seg(2, { discontinuity: true }));
  assert.match(t.render(), /0\.ts\n#EXT-X-GAP\n#EXTINF:2\.000,\n1\.ts\n#EXT-X-DISCONTINUITY\n[^\n]+\n#EXTINF:2\.000,\n2\.ts\n$/);
  assert.equal(t.get(1), undefined, "a gap is never served");
  assert.deepEqual(Object.keys(t.hashes().segments), ["0.ts", "2.ts"]);
});

test("an ended track carries ENDLIST", () => {
  const t = new RenditionTrack({ windowSize: 2, retainExtra: 0, targetDurationSec: 2 });
  t.add(seg(0));
  t.end();
  assert.ok(t.render().endsWith("#EXT-X-ENDLIST\n"));
});

test("the master playlist carries every attribute swarms are derived from", () => {
  const r = [
    { name: "720p", width: 1280, height: 720, fps: 30, videoBitrateKbps: 2800, audioBitrateKbps: 128 },
    { name: "360p", width: 640, height: 360, fps: 30, videoBitrateKbps: 800, audioBitrateKbps: 128 },
  ];
  assert.equal(
    renderMasterPlaylist("S1", r, encodedCodecString),
    [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-STREAM-INF:BANDWIDTH=4544400,AVERAGE-BANDWIDTH=3074400,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000',
      "S1/720p/index.m3u8",
      '#EXT-X-STREAM-INF:BANDWIDTH=1394400,AVERAGE-BANDWIDTH=974400,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000',
      "S1/360p/index.m3u8",
      "",
    ].join("\n"),
  );
});

test("ffmpeg's own playlist is read with its media sequence", () => {
  const text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2.000000,\n41.ts\n#EXTINF:1.966667,\n42.ts\n";
  assert.deepEqual(parseFfmpegPlaylist(text), [
    { seq: 41, durationSec: 2, uri: "41.ts" },
    { seq: 42, durationSec: 1.966667, uri: "42.ts" },
  ]);
});

test("CODECS comes from the first SPS in the segment bytes", () => {
  const ts = Buffer.from([0x47, 0x40, 0, 0x10, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac]);
  assert.equal(h264CodecFromTs(ts), "avc1.64001f");
  assert.equal(h264CodecFromTs(Buffer.from([0, 0, 1, 0x09, 0xf0])), undefined);
});

test("blocking reload: a request waits for its segment, or the end, or gives up", async () => {
  const t = new RenditionTrack({ windowSize: 3, retainExtra: 0, targetDurationSec: 2 });
  t.add(seg(0));
  assert.equal(await t.until(0, 10), true, "already listed: at once");
  const waiting = t.until(2, 5000);
  const early = t.until(1, 5000);
  t.add(seg(1));
  assert.equal(await early, true);
  let settled = false;
  void waiting.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, "segment 2 is not there yet");
  t.add(seg(2));
  assert.equal(await waiting, true);
  assert.equal(await t.until(9, 30), false, "never came");
  const ending = t.until(9, 5000);
  t.end();
  assert.equal(await ending, true, "the end answers everyone");
});

test("blocking reload: delivery directives are checked", () => {
  assert.equal(deliveryDirective(undefined, undefined), undefined);
  assert.equal(deliveryDirective("12", undefined), 12);
  assert.equal(deliveryDirective("12", "3"), 12);
  assert.match(String(deliveryDirective(undefined, "1")), /_HLS_part needs _HLS_msn/);
  assert.match(String(deliveryDirective("-1", undefined)), /_HLS_msn must be a segment number/);
  assert.match(String(deliveryDirective("1e3", undefined)), /_HLS_msn must be a segment number/);
  assert.match(String(deliveryDirective("4", "x")), /_HLS_part must be a part number/);
});
