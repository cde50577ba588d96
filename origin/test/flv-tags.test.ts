import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlvTag } from "../src/ingest/flv-tags.js";

/** An FLV tag as the RTMP library emits it: 11-byte header, data, 4-byte trailer. */
function tag(type: number, data: number[], timestampMs = 0): Buffer {
  const b = Buffer.alloc(11 + data.length + 4);
  b[0] = type;
  b.writeUIntBE(data.length, 1, 3);
  b.writeUIntBE(timestampMs & 0xffffff, 4, 3);
  b[7] = (timestampMs >>> 24) & 0xff;
  Buffer.from(data).copy(b, 11);
  return b;
}

test("H.264 keyframes, inter frames and the AVC sequence header", () => {
  assert.deepEqual(parseFlvTag(tag(9, [0x17, 0, 0, 0, 0], 40)), {
    kind: "video",
    timestampMs: 40,
    codec: "h264",
    keyframe: true,
    sequenceHeader: true,
  });
  assert.deepEqual(parseFlvTag(tag(9, [0x17, 1, 0, 0, 0])), {
    kind: "video",
    timestampMs: 0,
    codec: "h264",
    keyframe: true,
    sequenceHeader: false,
  });
  assert.equal((parseFlvTag(tag(9, [0x27, 1, 0, 0, 0])) as { keyframe: boolean }).keyframe, false);
});

test("enhanced RTMP HEVC and AV1 and legacy codecs are named, not taken for H.264", () => {
  const hevc = parseFlvTag(tag(9, [0x90, ...Buffer.from("hvc1"), 1, 2, 3]));
  assert.equal((hevc as { codec: string }).codec, "hevc");
  const av1 = parseFlvTag(tag(9, [0x91, ...Buffer.from("av01")]));
  assert.equal((av1 as { codec: string }).codec, "av1");
  assert.equal((parseFlvTag(tag(9, [0x22, 0])) as { codec: string }).codec, "flv-codec-2");
});

test("timestamps use the extended byte", () => {
  assert.equal((parseFlvTag(tag(8, [0xaf, 1], 0x12345678)) as { timestampMs: number }).timestampMs, 0x12345678);
});

test("AAC audio config, script data, the FLV header and garbage", () => {
  assert.deepEqual(parseFlvTag(tag(8, [0xaf, 0])), { kind: "audio", timestampMs: 0, codec: "aac", sequenceHeader: true });
  assert.equal(parseFlvTag(tag(18, [2, 0, 0])).kind, "script");
  assert.equal(parseFlvTag(Buffer.from("FLV\x01\x05\0\0\0\x09")).kind, "header");
  assert.equal(parseFlvTag(Buffer.from([9, 0])).kind, "unknown");
  assert.equal(parseFlvTag(tag(9, [])).kind, "unknown");
});
