import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import pino from "pino";
import type { IncomingPublish } from "../src/ingest/rtmp-server.js";
import { PublishFeed } from "../src/session/publish-feed.js";

/** An FLV video tag as the RTMP library hands it out. */
function video(timestampMs: number, keyframe: boolean, sequenceHeader = false): Buffer {
  const data = [keyframe ? 0x17 : 0x27, sequenceHeader ? 0 : 1, 0, 0, 0];
  const b = Buffer.alloc(11 + data.length + 4);
  b[0] = 9;
  b.writeUIntBE(data.length, 1, 3);
  b.writeUIntBE(timestampMs & 0xffffff, 4, 3);
  Buffer.from(data).copy(b, 11);
  return b;
}

function feedWith(onReady: () => void) {
  let push!: (b: Buffer) => void;
  const publish = {
    announced: () => ({ width: 640, height: 360, fps: 30, videoKbps: 0, hasAudio: false }),
    subscribe: (onTag: (b: Buffer) => void) => (push = onTag),
    disconnect: () => undefined,
  } as unknown as IncomingPublish;
  const feed = new PublishFeed(publish, {
    startTimeoutMs: 10_000,
    probeKeyframeInterval: false,
    backlogBytes: 1 << 20,
    log: pino({ level: "silent" }),
    onReady,
    onDropped: () => undefined,
  });
  return { feed, push: (b: Buffer) => push(b) };
}

test("the feed holds the stream until an H.264 keyframe, then starts from it", () => {
  let ready = 0;
  const { feed, push } = feedWith(() => ready++);
  push(video(0, true, true));
  push(video(10, false));
  assert.equal(ready, 0, "inter frames before a keyframe are not a start");
  push(video(40, true));
  assert.equal(ready, 1);
  const out = new PassThrough();
  const written: Buffer[] = [];
  out.on("data", (b: Buffer) => written.push(b));
  feed.connect(out);
  push(video(70, false));
  feed.close();
  // Sequence header, then the keyframe, then what followed it.
  assert.deepEqual(
    written.map((b) => b.readUIntBE(4, 3)),
    [0, 40, 70],
  );
});

test("a copied source whose keyframes leave the segment grid is reported once", () => {
  const { feed, push } = feedWith(() => undefined);
  push(video(0, true, true));
  push(video(0, true));
  let offGrid = 0;
  feed.connect(new PassThrough(), { intervalMs: 2000, onOffGrid: () => offGrid++ });
  for (const t of [2000, 3000, 4001, 6000]) push(video(t, true)); // an extra keyframe is fine
  assert.equal(offGrid, 0);
  push(video(8500, true)); // the keyframe due at 8000 never came
  push(video(10_500, true));
  assert.equal(offGrid, 1);
  feed.close();
});
