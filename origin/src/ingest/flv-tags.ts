// Reads just enough of each FLV tag (as the RTMP library hands them out) to decide whether
// the ladder can take a stream and where keyframes are. Media bytes are never rewritten.

export type FlvTag =
  | { kind: "header" }
  | { kind: "script"; timestampMs: number }
  | { kind: "audio"; timestampMs: number; codec: AudioCodec; sequenceHeader: boolean }
  | { kind: "video"; timestampMs: number; codec: VideoCodec; keyframe: boolean; sequenceHeader: boolean }
  | { kind: "unknown" };

export type VideoCodec = "h264" | "hevc" | "av1" | "vp9" | `flv-codec-${number}` | `fourcc-${string}`;
export type AudioCodec = "aac" | "mp3" | `flv-sound-${number}`;

const TAG_HEADER = 11;

export function parseFlvTag(buf: Buffer): FlvTag {
  if (buf.length >= 3 && buf.toString("latin1", 0, 3) === "FLV") return { kind: "header" };
  // Header, at least one data byte, and the 4-byte previous-tag-size trailer.
  if (buf.length < TAG_HEADER + 1 + 4) return { kind: "unknown" };
  const type = buf[0];
  // 24-bit timestamp plus the extension byte as the high 8 bits.
  const timestampMs = ((buf[7]! << 24) | buf.readUIntBE(4, 3)) >>> 0;
  const d = buf.subarray(TAG_HEADER, buf.length - 4);
  if (type === 18) return { kind: "script", timestampMs };
  if (type === 8) {
    const format = d[0]! >> 4;
    const codec: AudioCodec = format === 10 ? "aac" : format === 2 ? "mp3" : `flv-sound-${format}`;
    return { kind: "audio", timestampMs, codec, sequenceHeader: format === 10 && d[1] === 0 };
  }
  if (type === 9) return { kind: "video", timestampMs, ...parseVideo(d) };
  return { kind: "unknown" };
}

function parseVideo(d: Buffer): { codec: VideoCodec; keyframe: boolean; sequenceHeader: boolean } {
  const first = d[0] ?? 0;
  const frameType = (first >> 4) & 0b0111;
  // Enhanced RTMP: high bit set, then a packet type and a FourCC.
  if (first & 0x80) {
    const fourcc = d.length >= 5 ? d.toString("latin1", 1, 5) : "";
    const codec: VideoCodec = fourcc === "hvc1" ? "hevc" : fourcc === "av01" ? "av1" : fourcc === "vp09" ? "vp9" : `fourcc-${fourcc}`;
    return { codec, keyframe: frameType === 1, sequenceHeader: (first & 0x0f) === 0 };
  }
  const id = first & 0x0f;
  return {
    codec: id === 7 ? "h264" : id === 12 ? "hevc" : `flv-codec-${id}`,
    keyframe: frameType === 1,
    sequenceHeader: id === 7 && d[1] === 0,
  };
}
