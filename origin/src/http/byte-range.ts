// Single byte ranges of a segment (RFC 9110 14.2). p2p-media-loader resumes a segment over HTTP
// from where a peer's transfer stopped (a peer left, or the segment became urgent) with
// `Range: bytes=N-`; without ranges the origin would send the whole segment again.

export type ByteRange = { start: number; end: number } | "unsatisfiable" | undefined;

/**
 * The one range a `Range` header asks of `size` bytes (end inclusive); undefined for the whole
 * representation: no header, another unit, several ranges, or a header that does not parse
 * (RFC 9110 lets a server ignore those and answer 200).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  const [first, last] = [m[1] === "" ? undefined : Number(m[1]), m[2] === "" ? undefined : Number(m[2])];
  if (first === undefined) {
    // A suffix: the last `last` bytes.
    if (last === 0) return "unsatisfiable";
    return { start: Math.max(0, size - last!), end: size - 1 };
  }
  if (last !== undefined && last < first) return undefined;
  if (first >= size) return "unsatisfiable";
  return { start: first, end: Math.min(last ?? size - 1, size - 1) };
}
