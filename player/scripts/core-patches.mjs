// Build-time patches to p2p-media-loader-core's dist bundle, each checked to apply exactly
// once so that a library upgrade which changes the code fails the build instead of silently
// dropping the patch. Each should go upstream as a configuration option (see the README).
export const CORE_PATCHES = [
  {
    // The bundled bittorrent-tracker client waits 10 s + up to 5 min before reconnecting to a
    // tracker that went away: after a tracker restart, existing viewers stay invisible to new
    // ones for minutes. Reconnect after 2 s + up to 8 s (still spreading the herd), 1 min max.
    why: "tracker reconnect delay",
    replace: [
      ["var RECONNECT_MINIMUM = 10 * 1e3;", "var RECONNECT_MINIMUM = 2 * 1e3;"],
      ["var RECONNECT_MAXIMUM = 3600 * 1e3;", "var RECONNECT_MAXIMUM = 60 * 1e3;"],
      ["var RECONNECT_VARIANCE = 300 * 1e3;", "var RECONNECT_VARIANCE = 8 * 1e3;"],
    ],
  },
];

/** Applies every patch to the core bundle's source; throws if one no longer matches exactly once. */
export function patchCore(source) {
  for (const patch of CORE_PATCHES) {
    for (const [from, to] of patch.replace) {
      const count = source.split(from).length - 1;
      if (count !== 1) throw new Error(`p2p-media-loader-core patch "${patch.why}": expected "${from}" once, found ${count} times`);
      source = source.replace(from, to);
    }
  }
  return source;
}
