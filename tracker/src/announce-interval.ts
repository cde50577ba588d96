// How often clients announce. Each answer tells its own interval, spread by ±20 %: a crowd
// that joined together (a stream going live, a link posted in chat) would otherwise announce
// together every interval, each announce five new WebRTC offers, so the tracker and every
// viewer's peers would take the whole crowd's connection set-ups in the same few seconds.
const SPREAD = 0.2;

/** A peer's first answers: soon enough that a newcomer meets more than its first 5 peers early on. */
export const EARLY_INTERVAL_SEC = 10;

/** The interval a peer's first answers tell (never longer than the configured one). */
export const earlyIntervalSec = (baseSec: number) => Math.min(baseSec, EARLY_INTERVAL_SEC);

/** The interval for one answer, whole seconds (what clients read). */
export function spreadIntervalSec(baseSec: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(baseSec * (1 - SPREAD + 2 * SPREAD * random())));
}

/** The longest interval any client may have been told. */
export function longestIntervalMs(baseSec: number): number {
  return Math.max(1, Math.round(baseSec * (1 + SPREAD))) * 1000;
}
