// Light peers run p2p-media-loader-core's own dist bundle, with exactly the patches the
// player's bundle gets (player/scripts/core-patches.mjs), so they behave as real viewers do.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { patchCore } from "@peercast/player/core-patches";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(path.dirname(fileURLToPath(import.meta.resolve("p2p-media-loader-core"))), "..", "dist", "p2p-media-loader-core.es.js");
const out = path.resolve(here, "../dist/core/p2p-media-loader-core.es.js");
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, patchCore(fs.readFileSync(source, "utf8")));
