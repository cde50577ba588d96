// A peer that sent bytes failing the hash check stays out for the session: the patched core
// (player/scripts/core-patches.mjs, "a peer that sent bad bytes stays out") closes it, refuses
// its offers and answers from then on, and reports it to the tracker, which stops introducing
// the two (and, once viewers at two addresses reported it, stops introducing it to anyone).
// The player and the load test's light peers both watch their core with this.
import type { Core } from "p2p-media-loader-core";

/** What the core patch adds to Core. */
interface RejectingCore {
  rejectPeer(peerId: string): void;
}

/** From now on, every peer whose segment fails the check is rejected. */
export function rejectPeersThatSendBadBytes(core: Core): void {
  core.addEventListener("onSegmentError", ({ error, peerId }) => {
    // The patched core names a peer here only when that peer sent every byte that failed.
    if (error.type !== "p2p-segment-validation-failed" || peerId === undefined) return;
    (core as Core & RejectingCore).rejectPeer(peerId);
  });
}
