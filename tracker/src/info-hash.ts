import { createHash } from "node:crypto";

// How p2p-media-loader 2.3.1 names its swarms (lib/utils/stream.js and peer.js, and
// p2p-media-loader-hlsjs segment-manager.js). The golden tests hold this to the library.

const sha1 = (s: string) => createHash("sha1").update(s, "utf8").digest();

/** A variant as hls.js reports it from the master playlist. */
export interface VariantAttributes {
  /** BANDWIDTH (hls.js maxBitrate), preferred by the library over AVERAGE-BANDWIDTH. */
  bandwidth: number;
  /** The video codec of CODECS, e.g. "avc1.64001f". */
  videoCodec: string;
  width: number;
  height: number;
  /** FRAME-RATE as written, e.g. "30.000". */
  frameRate?: string;
  videoRange?: string;
}

/** The library's generateStreamShortId for a main (video) variant. */
export function streamShortId(v: VariantAttributes): string {
  const codecs = v.videoCodec
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .sort()
    .join(",");
  const frameRate = v.frameRate && !Number.isNaN(Number(v.frameRate)) ? Number(v.frameRate).toString() : "";
  const range = v.videoRange ? v.videoRange.toUpperCase().trim() : "";
  const str = `${v.bandwidth}-${codecs}-${v.width}-${v.height}----${frameRate}-${range}`;
  return sha1(str).toString("base64");
}

/** The 20-character info hash players announce for one variant of a swarm. */
export function infoHashOf(swarmId: string, v: VariantAttributes): string {
  const streamSwarmId = `v2-${swarmId}-main-${streamShortId(v)}`;
  return sha1(streamSwarmId).subarray(0, 15).toString("base64");
}

/** Variants of a master playlist, as hls.js would read their attributes. */
export function parseMasterVariants(master: string): VariantAttributes[] {
  return master
    .split("\n")
    .filter((l) => l.startsWith("#EXT-X-STREAM-INF:"))
    .map((line) => {
      const attrs = new Map<string, string>();
      for (const m of line.slice(18).matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) attrs.set(m[1]!, m[2]!.replace(/^"|"$/g, ""));
      const [w, h] = (attrs.get("RESOLUTION") ?? "0x0").split("x").map(Number);
      const video = (attrs.get("CODECS") ?? "").split(",").find((c) => /^(avc|hvc|hev|av01|vp09)/.test(c.trim())) ?? "";
      return {
        bandwidth: Number(attrs.get("BANDWIDTH") ?? 0),
        videoCodec: video.trim(),
        width: w ?? 0,
        height: h ?? 0,
        frameRate: attrs.get("FRAME-RATE"),
        videoRange: attrs.get("VIDEO-RANGE"),
      };
    });
}
