import assert from "node:assert/strict";
import { test } from "node:test";
import { infoHashOf, parseMasterVariants, streamShortId } from "../src/info-hash.js";

// p2p-media-loader-core 2.3.1's own code (the pinned version), loaded from its files: the
// tracker must name swarms exactly as the players will.
const lib = (file: string) => import(new URL(`../../../node_modules/p2p-media-loader-core/lib/utils/${file}`, import.meta.url).href);

const MASTER = [
  "#EXTM3U",
  "#EXT-X-VERSION:3",
  "#EXT-X-INDEPENDENT-SEGMENTS",
  '#EXT-X-STREAM-INF:BANDWIDTH=4544400,AVERAGE-BANDWIDTH=3074400,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000',
  "S1/720p/index.m3u8",
  '#EXT-X-STREAM-INF:BANDWIDTH=1394400,AVERAGE-BANDWIDTH=974400,CODECS="avc1.42c01e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970',
  "S1/360p/index.m3u8",
  "",
].join("\n");

test("variants are read as hls.js reads them", () => {
  assert.deepEqual(parseMasterVariants(MASTER), [
    { bandwidth: 4544400, videoCodec: "avc1.64001f", width: 1280, height: 720, frameRate: "30.000", videoRange: undefined },
    { bandwidth: 1394400, videoCodec: "avc1.42c01e", width: 640, height: 360, frameRate: "29.970", videoRange: undefined },
  ]);
});

test("golden: stream ids and info hashes equal p2p-media-loader 2.3.1's own", async () => {
  const { generateStreamShortId, getStreamSwarmId } = await lib("stream.js");
  const { getStreamHash } = await lib("peer.js");
  for (const v of parseMasterVariants(MASTER)) {
    const index = generateStreamShortId({ bitrate: v.bandwidth, codecs: v.videoCodec, width: v.width, height: v.height, frameRate: v.frameRate });
    assert.equal(streamShortId(v), index);
    const streamSwarmId = getStreamSwarmId("main:S1", { type: "main", index });
    assert.equal(infoHashOf("main:S1", v), getStreamHash(streamSwarmId));
    assert.equal(infoHashOf("main:S1", v).length, 20);
  }
});
