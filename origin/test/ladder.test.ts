import assert from "node:assert/strict";
import { test } from "node:test";
import { h264Level } from "../src/transcode/ffmpeg-args.js";
import { addPassthrough, freezeLadder, parseLadderSpec } from "../src/transcode/ladder.js";
import { passthroughRefusal } from "../src/transcode/passthrough.js";

const DEFAULT = parseLadderSpec("720p:1280x720:2800,480p:854x480:1400,360p:640x360:800");
const freeze = (width: number, height: number, fps = 30) =>
  freezeLadder(DEFAULT, { width, height, fps }, { maxFps: 30, audioKbps: 128 }).map((r) => `${r.name}:${r.width}x${r.height}@${r.fps}`);

test("a 720p source gets the whole default ladder", () => {
  assert.deepEqual(freeze(1280, 720), ["720p:1280x720@30", "480p:854x480@30", "360p:640x360@30"]);
});

test("the ladder never upscales: a 480p source gets 480p and 360p", () => {
  assert.deepEqual(freeze(854, 480), ["480p:854x480@30", "360p:640x360@30"]);
});

test("a source below every rung gets one rendition at its own size", () => {
  assert.deepEqual(freeze(320, 240, 25), ["240p:320x240@25"]);
});

test("1080p60 is capped to the top rung and the maximum fps", () => {
  assert.deepEqual(freeze(1920, 1080, 60), ["720p:1280x720@30", "480p:854x480@30", "360p:640x360@30"]);
});

test("portrait sources keep their orientation; rungs apply to the short side", () => {
  assert.deepEqual(freeze(1080, 1920), ["720p:720x1280@30", "480p:480x854@30", "360p:360x640@30"]);
});

test("ultra-wide sources stay within the rung width", () => {
  assert.deepEqual(freeze(2560, 1080), ["720p:1280x540@30", "480p:854x360@30", "360p:640x270@30"]);
});

test("ladder specs are validated with a useful message", () => {
  assert.throws(() => parseLadderSpec("720p:1280x720"), /name:WIDTHxHEIGHT:KBPS/);
  assert.throws(() => parseLadderSpec("a:1280x720:100,a:640x360:50"), /unique/);
  assert.throws(() => parseLadderSpec("a:1281x720:100"), /even/);
  assert.deepEqual(
    parseLadderSpec("360p:640x360:800,720p:1280x720:2800").map((r) => r.name),
    ["720p", "360p"],
  );
});

test("H.264 levels fit the frame size and rate", () => {
  assert.equal(h264Level({ width: 640, height: 360, fps: 30 }), "3.0");
  assert.equal(h264Level({ width: 1280, height: 720, fps: 30 }), "3.1");
  assert.equal(h264Level({ width: 1280, height: 720, fps: 60 }), "3.2");
  assert.equal(h264Level({ width: 1920, height: 1080, fps: 30 }), "4.0");
});

test("passthrough goes on top and replaces the rungs as large as the source", () => {
  const ladder = freezeLadder(DEFAULT, { width: 1280, height: 720, fps: 30 }, { maxFps: 30, audioKbps: 128 });
  const withSource = addPassthrough(ladder, { width: 1280, height: 720, fps: 30, videoKbps: 3500 }, 128);
  assert.deepEqual(
    withSource.map((r) => `${r.name}:${r.height}:${r.passthrough ?? false}`),
    ["source:720:true", "480p:480:false", "360p:360:false"],
  );
});

test("passthrough only when the source's keyframe interval is the segment duration", () => {
  const probe = { width: 1280, height: 720, fps: 30 };
  assert.equal(passthroughRefusal({ ...probe, keyframeIntervalMs: 2000 }, 2), undefined);
  assert.equal(passthroughRefusal({ ...probe, keyframeIntervalMs: 2001 }, 2), undefined, "ms rounding");
  assert.match(passthroughRefusal({ ...probe, keyframeIntervalMs: 2002 }, 2)!, /2\.00 s/, "29.97 fps drifts");
  assert.match(passthroughRefusal({ ...probe, keyframeIntervalMs: 1000 }, 2)!, /keyframe interval is 1\.00 s, segments are 2 s/);
  assert.match(passthroughRefusal({ ...probe, keyframeIntervalMs: undefined }, 2)!, /no second keyframe/);
  assert.match(passthroughRefusal({ width: 0, height: 0, fps: 30, keyframeIntervalMs: 2000 }, 2)!, /size/);
});
