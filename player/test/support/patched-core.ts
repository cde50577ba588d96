// The pinned p2p-media-loader-core bundle with the project's patches, as a module whose
// internals the core-patch tests call (player/scripts/core-patches.mjs; docs/player.md: "Patches to
// p2p-media-loader-core 2.3.1").
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The pinned core's bundle, as the player's build and the light peers read it. */
export const CORE_BUNDLE = fileURLToPath(new URL("../../../../node_modules/p2p-media-loader-core/dist/p2p-media-loader-core.es.js", import.meta.url));

export const loadPatchCore = async (): Promise<(source: string) => string> =>
  ((await import(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../scripts/core-patches.mjs"))) as { patchCore: (s: string) => string })
    .patchCore;

export type Methods = { prototype: Record<string, (...args: unknown[]) => unknown> };

export type Constructor = new (...args: unknown[]) => Record<string, (...args: unknown[]) => unknown>;

/** The bundle's classes are untyped here: the tests reach into their fields. */

export type Loose = any;

export interface PatchedCore {
  P2PLoader: Methods & (new (...args: unknown[]) => Loose);
  HybridLoader: Methods;
  P2PTrackerClient: Methods;
  WebSocketTracker: Methods;
  Core: Methods;
  Peer: new (...args: unknown[]) => Loose;
  EventTarget: new () => Loose;
  RequestsContainer: new (...args: unknown[]) => Loose;
  Request$1: Constructor;
  RequestError: new (type: string) => Error;
  slotPlace: (slot: number, size: number, externalId: number) => number;
  uploadSlots: (eventTarget: object) => number;
  poorUplink: (eventTarget: object) => boolean;
  measureUplink: (eventTarget: object, segment: { startTime: number; endTime: number }, total: number, bytes: number, ms: number) => void;
  uplinkOf: (eventTarget: object) => { samples: { streams: number; at: number }[] };
  uplinkStreams: (eventTarget: object) => number | undefined;
}

/** The patched core as a module, with the internals the tests call exported. */
export async function importPatchedCore(): Promise<PatchedCore> {
  const patchCore = await loadPatchCore();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "peercast-core-")), "core.mjs");
  // Core and RequestError the bundle exports itself.
  fs.writeFileSync(
    file,
    `${patchCore(fs.readFileSync(CORE_BUNDLE, "utf8"))}\nexport { P2PLoader, HybridLoader, P2PTrackerClient, WebSocketTracker, Peer, EventTarget, RequestsContainer, Request$1, slotPlace, uploadSlots, poorUplink, measureUplink, uplinkOf, uplinkStreams };\n`,
  );
  // Read as the bundle loads; nothing here opens a socket.
  const g = globalThis as Record<string, unknown>;
  g.window ??= globalThis;
  g.WebSocket ??= class {};
  g.navigator ??= { userAgent: "node" };
  try {
    return (await import(file)) as PatchedCore;
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true });
  }
}
