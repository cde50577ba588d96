import path from "node:path";
import type { Readable } from "node:stream";
import type { RenditionInfo } from "../wire/index.js";

/** An ffmpeg invocation as data: what ffmpeg-process runs, and what golden tests read. */
export interface FfmpegJob {
  inputs: { source: string | Readable; options: string[] }[];
  outputs: { target: string; options: string[] }[];
}

export interface TranscodeJobOptions {
  renditions: RenditionInfo[];
  segmentSec: number;
  /** Media sequence number of the first segment this run writes. */
  startNumber: number;
  /** Session directory; each rendition writes into its own sub-folder. */
  sessionDir: string;
  /** Distinguishes the segment lists of successive runs in one session. */
  runId: number;
  preset: string;
  /** False when the source has no audio: a silent track keeps the frozen CODECS true. */
  sourceHasAudio: boolean;
  /** Copy the source into the passthrough rendition (else it is encoded at its frozen size). */
  copySource: boolean;
  input: Readable;
}

export const segmentFileName = (seq: number) => `${seq}.ts`;
/** ffmpeg's own playlist of a run: only read by the origin to learn of finished segments. */
export const ffmpegPlaylistName = (runId: number) => `ffmpeg-${runId}.m3u8`;

/**
 * Builds the transcoder: FLV on stdin (never a URL, so no stream key in argv) to one MPEG-TS
 * segment series per rendition. ffmpeg's playlist only tells the origin
 * which segments are done; the origin writes the playlists viewers get.
 */
export function buildTranscodeJob(o: TranscodeJobOptions): FfmpegJob {
  const copied = (r: RenditionInfo) => Boolean(r.passthrough) && o.copySource;
  const encoded = o.renditions.filter((r) => !copied(r));
  const fps = encoded.find((r) => !r.passthrough)?.fps ?? encoded[0]?.fps ?? 30;
  // One decode, one fps conversion, then a split: every rendition sees identical frame times,
  // so a fixed GOP puts keyframes on the same frames everywhere (aligned segments).
  const chains = encoded.map(
    (r, i) =>
      // Scale into the frozen size whatever the (possibly changed) source size; pad keeps it exact.
      `[s${i}]scale=${r.width}:${r.height}:force_original_aspect_ratio=decrease,` +
      `pad=${r.width}:${r.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v${i}]`,
  );
  const split = `[0:v:0]fps=${fps},split=${encoded.length}${encoded.map((_, i) => `[s${i}]`).join("")}`;
  const inputs: FfmpegJob["inputs"] = [
    {
      source: o.input,
      // Small probe: the stream is already checked by the ingest, and start-up latency matters.
      options: ["-f", "flv", "-probesize", "1000000", "-analyzeduration", "1000000"],
    },
  ];
  if (!o.sourceHasAudio) {
    inputs.push({ source: "anullsrc=channel_layout=stereo:sample_rate=48000", options: ["-f", "lavfi"] });
  }
  const audioMap = o.sourceHasAudio ? "0:a:0" : "1:a:0";
  const gop = String(Math.round(fps * o.segmentSec));
  const encode = (r: RenditionInfo, i: number) => [
    ...(i === 0 ? ["-filter_complex", [split, ...chains].join(";")] : []),
    "-map",
    `[v${i}]`,
    "-c:v",
    "libx264",
    "-preset",
    o.preset,
    "-profile:v",
    "high",
    "-level:v",
    h264Level(r),
    "-b:v",
    `${r.videoBitrateKbps}k`,
    "-maxrate",
    `${r.videoBitrateKbps}k`,
    // One second of buffer: a segment peaks at ~1.5x the rate (BANDWIDTH says so).
    "-bufsize",
    `${r.videoBitrateKbps}k`,
    // Fixed GOP of exactly one segment and no scene-cut keyframes: aligned boundaries.
    "-g",
    gop,
    "-keyint_min",
    gop,
    "-sc_threshold",
    "0",
  ];
  const outputs = o.renditions.map((r) => {
    const dir = path.join(o.sessionDir, r.name);
    return {
      target: path.join(dir, ffmpegPlaylistName(o.runId)),
      options: [
        // The source's keyframes already fall on segment boundaries: copy its video.
        ...(copied(r) ? ["-map", "0:v:0", "-c:v", "copy"] : encode(r, encoded.indexOf(r))),
        "-map",
        audioMap,
        "-c:a",
        "aac",
        "-b:a",
        `${r.audioBitrateKbps}k`,
        "-ar",
        "48000",
        "-ac",
        "2",
        "-f",
        "hls",
        "-hls_time",
        String(o.segmentSec),
        "-hls_list_size",
        "6",
        "-start_number",
        String(o.startNumber),
        // A segment is renamed into place once complete, and only then listed.
        "-hls_flags",
        "temp_file",
        "-hls_segment_type",
        "mpegts",
        "-hls_segment_filename",
        path.join(dir, "%d.ts"),
      ],
    };
  });
  return { inputs, outputs };
}

/** The smallest H.264 level that fits the rendition (frame size and macroblock rate). */
export function h264Level(r: Pick<RenditionInfo, "width" | "height" | "fps">): string {
  const mbs = Math.ceil(r.width / 16) * Math.ceil(r.height / 16);
  const levels: [string, number, number][] = [
    ["3.0", 1620, 40500],
    ["3.1", 3600, 108000],
    ["3.2", 5120, 216000],
    ["4.0", 8192, 245760],
    ["4.2", 8704, 522240],
    ["5.1", 36864, 983040],
  ];
  const fit = levels.find(([, frame, rate]) => mbs <= frame && mbs * r.fps <= rate);
  return (fit ?? levels[levels.length - 1]!)[0];
}

/** The argv ffmpeg receives for a job (fluent-ffmpeg adds the same, plus -y). */
export function jobToArgv(job: FfmpegJob): string[] {
  return [
    ...job.inputs.flatMap((i) => [...i.options, "-i", typeof i.source === "string" ? i.source : "pipe:0"]),
    ...job.outputs.flatMap((o) => [...o.options, o.target]),
  ];
}
