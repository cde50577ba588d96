// Blocking playlist reloads: the origin answers a request for the next segment's playlist
// the moment that segment exists (EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES), so a viewer
// learns of it at once instead of up to a segment later, and hls.js's idea of the live edge
// (which sets how far behind a viewer plays) is no longer off by the polling phase.
// hls.js sends `_HLS_msn` only in its low-latency mode and reports the URL it asked for as the
// playlist's; the P2P engine knows a rendition by its URL in the master playlist, so that URL
// is given back to it without the directives.
import type { LoaderCallbacks, LoaderConfiguration, PlaylistLoaderConstructor, PlaylistLoaderContext } from "hls.js";

const DIRECTIVES = new Set(["_HLS_msn", "_HLS_part", "_HLS_skip"]);

/** `url` without HLS delivery directives (other query parameters stay). */
export function withoutDeliveryDirectives(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const kept = url
    .slice(q + 1)
    .split("&")
    .filter((p) => !DIRECTIVES.has(decodeURIComponent(p.split("=")[0]!)));
  return url.slice(0, q) + (kept.length ? `?${kept.join("&")}` : "");
}

/** A playlist loader that reports every playlist under its plain URL. */
export function plainPlaylistUrls(Base: PlaylistLoaderConstructor): PlaylistLoaderConstructor {
  return class extends Base {
    override load(context: PlaylistLoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<PlaylistLoaderContext>): void {
      super.load(context, config, {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => callbacks.onSuccess({ ...response, url: withoutDeliveryDirectives(response.url) }, stats, ctx, details),
      });
    }
  };
}
