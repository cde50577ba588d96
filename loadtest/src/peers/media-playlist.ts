// A live media playlist as a player reads it: what the light peers follow.

export interface PlaylistSegment {
  seq: number;
  /** Absolute URL. */
  url: string;
  durationSec: number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment's first frame (epoch ms). */
  pdtMs: number;
  /** Listed as EXT-X-GAP: the rendition has no such segment. */
  gap: boolean;
}

export interface MediaPlaylist {
  targetDurationSec: number;
  segments: PlaylistSegment[];
  ended: boolean;
  /** EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES: the next playlist can be asked for before it exists. */
  canBlockReload: boolean;
}

export function parseMediaPlaylist(text: string, playlistUrl: string): MediaPlaylist {
  if (!text.startsWith("#EXTM3U")) throw new Error("not an HLS playlist");
  const out: MediaPlaylist = { targetDurationSec: 0, segments: [], ended: false, canBlockReload: false };
  let seq = 0;
  let pdtMs: number | undefined;
  let durationSec = 0;
  let gap = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-TARGETDURATION:")) out.targetDurationSec = Number(line.slice(22));
    else if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) seq = Number(line.slice(22));
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) pdtMs = Date.parse(line.slice(25));
    else if (line.startsWith("#EXTINF:")) durationSec = parseFloat(line.slice(8));
    else if (line === "#EXT-X-GAP") gap = true;
    else if (line === "#EXT-X-ENDLIST") out.ended = true;
    else if (line.startsWith("#EXT-X-SERVER-CONTROL:")) out.canBlockReload = /(^|[:,])CAN-BLOCK-RELOAD=YES(,|$)/.test(line);
    else if (line && !line.startsWith("#")) {
      // PROGRAM-DATE-TIME is written where the timeline breaks; elsewhere it follows on.
      const previous = out.segments.at(-1);
      const start = pdtMs ?? (previous ? previous.pdtMs + previous.durationSec * 1000 : NaN);
      if (!Number.isFinite(start)) throw new Error("playlist without EXT-X-PROGRAM-DATE-TIME");
      out.segments.push({ seq, url: new URL(line, playlistUrl).href, durationSec, pdtMs: start, gap });
      seq++;
      pdtMs = undefined;
      gap = false;
    }
  }
  return out;
}

/** The media playlist URI of a rendition (its path name, e.g. "360p") in a master playlist, and its index. */
export function findRendition(master: string, rendition: string): { uri: string; index: number } | undefined {
  const uris = master
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const index = uris.findIndex((u) => u.split("/").at(-2) === rendition);
  return index < 0 ? undefined : { uri: uris[index]!, index };
}
