// Bundles the browser code into dist/www with the pages and styles the origin serves.
// p2p-media-loader's lib/ builds import Node built-ins and its package exports block deep
// imports, so its self-contained dist/*.es.js files are aliased in.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { patchCore } from "./core-patches.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "..");
const out = path.join(pkg, "dist", "www");
// The packages export only lib/index.js; their dist/ sits beside lib/.
const distOf = (name) => path.join(path.dirname(fileURLToPath(import.meta.resolve(name))), "..", "dist", `${name}.es.js`);

const coreDist = distOf("p2p-media-loader-core");
const patchCorePlugin = {
  name: "patch-p2p-media-loader-core",
  setup(b) {
    b.onLoad({ filter: /p2p-media-loader-core\.es\.js$/ }, (args) =>
      args.path === coreDist ? { contents: patchCore(fs.readFileSync(args.path, "utf8")), loader: "js" } : undefined,
    );
  },
};

fs.rmSync(out, { recursive: true, force: true });
const common = { bundle: true, minify: true, sourcemap: true, target: "es2020", legalComments: "linked", logLevel: "warning" };
await build({
  ...common,
  entryPoints: [path.join(pkg, "src", "main.ts")],
  outfile: path.join(out, "player.js"),
  format: "esm",
  alias: {
    "p2p-media-loader-core": coreDist,
    "p2p-media-loader-hlsjs": distOf("p2p-media-loader-hlsjs"),
  },
  plugins: [patchCorePlugin],
});
// embed.js runs as a classic script on other sites: an IIFE, no module syntax.
await build({ ...common, entryPoints: [path.join(pkg, "src", "embed.ts")], outfile: path.join(out, "embed.js"), format: "iife" });
for (const f of fs.readdirSync(path.join(pkg, "www"))) fs.copyFileSync(path.join(pkg, "www", f), path.join(out, f));
