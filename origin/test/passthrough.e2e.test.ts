// PEERCAST_PASSTHROUGH: the source's own video is copied into a top rendition, only when its
// keyframes fall on segment boundaries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startOrigin, waitFor } from "./support/origin-process.js";
import { ffprobeStreams, keyframeTimes, publish } from "./support/publisher.js";
import { fetchSegment, tempFile, waitForSegment, waitLive } from "./support/hls.js";

const KEY = "passthrough-key-9";
const x264 = (gop: number) => [
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-g",
  String(gop),
  "-keyint_min",
  String(gop),
  "-sc_threshold",
  "0",
  "-pix_fmt",
  "yuv420p",
  "-b:v",
  "600k",
];

test("a source with 2 s keyframes is copied, aligned with the encoded renditions", async () => {
  const origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }], env: { PEERCAST_PASSTHROUGH: "1" } });
  const p = publish({ rtmpPort: origin.rtmpPort, key: KEY, size: "426x240", video: x264(60) });
  try {
    const info = await waitLive(origin.http, "main");
    const session = info.session!.id;
    assert.deepEqual(
      info.session!.renditions.map((r) => `${r.name}:${r.width}x${r.height}:${r.passthrough ?? false}`),
      ["source:426x240:true", "180p:320x180:false"],
    );
    await waitForSegment(origin.http, "main", session, "source", 3);
    await waitForSegment(origin.http, "main", session, "180p", 3);
    const keys: number[][] = [];
    for (const r of ["source", "180p"]) {
      const { bytes } = await fetchSegment(origin.http, "main", session, r, 2);
      const file = tempFile(`${r}.ts`, bytes);
      assert.equal(ffprobeStreams(file).find((s) => s.codec_type === "video")?.width, r === "source" ? 426 : 320);
      keys.push(keyframeTimes(file));
    }
    assert.equal(keys[0]!.length, 1);
    assert.ok(Math.abs(keys[0]![0]! - keys[1]![0]!) < 0.05, `segment 2 starts together: ${keys.join(" / ")}`);
  } finally {
    await p.stop();
    await origin.stop();
  }
});

test("a source whose keyframes do not fit the segments gets no passthrough, and the log says why", async () => {
  const origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }], env: { PEERCAST_PASSTHROUGH: "1" } });
  const p = publish({ rtmpPort: origin.rtmpPort, key: KEY, size: "426x240", video: x264(30) });
  try {
    const info = await waitLive(origin.http, "main");
    assert.deepEqual(
      info.session!.renditions.map((r) => r.name),
      ["240p", "180p"],
    );
    const refusal = await waitFor(() => origin.logs().find((l) => l.msg === "passthrough rendition refused"), 5000);
    assert.match(String(refusal.reason), /keyframe interval is 1\.00 s, segments are 2 s/);
  } finally {
    await p.stop();
    await origin.stop();
  }
});
