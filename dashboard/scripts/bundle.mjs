// Bundles the dashboard page (and uPlot's stylesheet) into dist/www, which the origin serves.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(pkg, "dist", "www");
fs.rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [path.join(pkg, "src", "main.ts")],
  outfile: path.join(out, "dashboard.js"),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: "es2020",
  legalComments: "linked",
  logLevel: "warning",
});
for (const f of fs.readdirSync(path.join(pkg, "www"))) fs.copyFileSync(path.join(pkg, "www", f), path.join(out, f));
