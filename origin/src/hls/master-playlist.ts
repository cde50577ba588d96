import type { RenditionInfo } from "../wire/index.js";
import { h264Level } from "../transcode/ffmpeg-args.js";

export const AAC_LC = "mp4a.40.2";

/** "avc1.6400XX": High profile at the level the encoder is told to use. */
export function encodedCodecString(r: RenditionInfo): string {
  const level = Math.round(Number(h264Level(r)) * 10);
  return `avc1.6400${level.toString(16).padStart(2, "0")}`;
}

/**
 * The session's master playlist. Rendered once when the session starts and never again:
 * players derive P2P swarm ids from these attributes, so they must stay byte-identical.
 */
export function renderMasterPlaylist(sessionId: string, renditions: RenditionInfo[], codecOf: (r: RenditionInfo) => string): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const r of renditions) {
    const kbps = r.videoBitrateKbps + r.audioBitrateKbps;
    // Peak: the encoder's VBV allows a segment up to ~1.5x the target video rate; 5 % TS overhead.
    const peak = Math.round((r.videoBitrateKbps * 1.5 + r.audioBitrateKbps) * 1050);
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${peak},AVERAGE-BANDWIDTH=${Math.round(kbps * 1050)},` +
        `CODECS="${codecOf(r)},${AAC_LC}",RESOLUTION=${r.width}x${r.height},FRAME-RATE=${r.fps.toFixed(3)}`,
      `${sessionId}/${r.name}/index.m3u8`,
    );
  }
  return lines.join("\n") + "\n";
}
