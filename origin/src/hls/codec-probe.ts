/**
 * RFC 6381 string ("avc1.PPCCLL") of the first H.264 SPS in MPEG-TS bytes. The encoder's
 * profile option is a ceiling (x264's ultrafast emits Constrained Baseline under "high"),
 * so CODECS is taken from what was really encoded.
 */
export function h264CodecFromTs(ts: Buffer): string | undefined {
  for (let i = ts.indexOf(START); i >= 0 && i + 6 < ts.length; i = ts.indexOf(START, i + 3)) {
    if ((ts[i + 3]! & 0x1f) !== 7) continue; // NAL type 7: sequence parameter set
    return "avc1." + [ts[i + 4]!, ts[i + 5]!, ts[i + 6]!].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return undefined;
}

const START = Buffer.from([0, 0, 1]);
