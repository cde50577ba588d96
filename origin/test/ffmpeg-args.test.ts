import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { buildTranscodeJob, jobToArgv } from "../src/transcode/ffmpeg-args.js";
import { buildTestSourceJob, testPictureFilter } from "../src/testsource/test-source.js";

const renditions = [
  { name: "720p", width: 1280, height: 720, fps: 30, videoBitrateKbps: 2800, audioBitrateKbps: 128 },
  { name: "360p", width: 640, height: 360, fps: 30, videoBitrateKbps: 800, audioBitrateKbps: 128 },
];
const job = (sourceHasAudio: boolean) =>
  buildTranscodeJob({
    renditions,
    segmentSec: 2,
    startNumber: 7,
    sessionDir: "/d/main/S1",
    runId: 2,
    preset: "veryfast",
    sourceHasAudio,
    copySource: false,
    input: new PassThrough(),
  });

const rendition = (name: string, level: string, kbps: number, filter: string[]) => [
  ...filter,
  "-map",
  `[v${name === "720p" ? 0 : 1}]`,
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-profile:v",
  "high",
  "-level:v",
  level,
  "-b:v",
  `${kbps}k`,
  "-maxrate",
  `${kbps}k`,
  "-bufsize",
  `${kbps}k`,
  "-g",
  "60",
  "-keyint_min",
  "60",
  "-sc_threshold",
  "0",
  "-map",
  "0:a:0",
  "-c:a",
  "aac",
  "-b:a",
  "128k",
  "-ar",
  "48000",
  "-ac",
  "2",
  "-f",
  "hls",
  "-hls_time",
  "2",
  "-hls_list_size",
  "6",
  "-start_number",
  "7",
  "-hls_flags",
  "temp_file",
  "-hls_segment_type",
  "mpegts",
  "-hls_segment_filename",
  `/d/main/S1/${name}/%d.ts`,
  `/d/main/S1/${name}/ffmpeg-2.m3u8`,
];

test("golden: the transcoder command for a two-rung ladder", () => {
  const filter =
    "[0:v:0]fps=30,split=2[s0][s1];" +
    "[s0]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v0];" +
    "[s1]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v1]";
  assert.deepEqual(jobToArgv(job(true)), [
    "-f",
    "flv",
    "-probesize",
    "1000000",
    "-analyzeduration",
    "1000000",
    "-i",
    "pipe:0",
    ...rendition("720p", "3.1", 2800, ["-filter_complex", filter]),
    ...rendition("360p", "3.0", 800, []),
  ]);
});

test("a source without audio gets a silent track, so CODECS stays true", () => {
  const argv = jobToArgv(job(false));
  assert.deepEqual(argv.slice(8, 12), ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000"]);
  assert.equal(argv.filter((a) => a === "1:a:0").length, 2);
});

test("a passthrough rendition copies the source's video while its keyframes fit", () => {
  const source = { name: "source", width: 1920, height: 1080, fps: 30, videoBitrateKbps: 6000, audioBitrateKbps: 128, passthrough: true };
  const argv = (copySource: boolean) =>
    jobToArgv(
      buildTranscodeJob({
        renditions: [source, renditions[1]!],
        segmentSec: 2,
        startNumber: 0,
        sessionDir: "/d",
        runId: 1,
        preset: "veryfast",
        sourceHasAudio: true,
        copySource,
        input: new PassThrough(),
      }),
    ).join(" ");
  assert.match(argv(true), /-map 0:v:0 -c:v copy -map 0:a:0 .* \/d\/source\/ffmpeg-1\.m3u8/);
  assert.match(argv(true), /split=1\[s0\];\[s0\]scale=640:360/);
  // A source that changed is encoded into the frozen passthrough size instead.
  assert.match(argv(false), /split=2\[s0\]\[s1\];\[s0\]scale=1920:1080/);
  assert.ok(!argv(false).includes("-c:v copy"));
});

test("the test source draws the clock as text and as BLOCK_CODE squares", () => {
  const filter = testPictureFilter({ width: 1280, height: 720, fps: 30, noise: false, epochMs: 1_000 });
  assert.equal((filter.match(/drawbox=/g) ?? []).length, 34, "background, framing square, 32 bits");
  assert.match(filter, /enable='mod\(floor\(\(1000\+t\*1000\)\/2147483648\)\\,2\)'/);
  assert.match(filter, /drawtext=text='%\{pts\\:hms\\:1\.000\} UTC'/);
  const src = buildTestSourceJob({ url: "rtmp://127.0.0.1:1/live/test-source", width: 640, height: 360, noise: false });
  assert.equal(src.outputs[0]!.target, "rtmp://127.0.0.1:1/live/test-source");
});
