// The build context of the images' prebuilt path (APP_FROM=prebuilt in infra/docker): this
// checkout's built files and the production dependencies of the origin and the tracker, laid out
// as in the repository, plus the Dockerfiles and the nginx config. Copied from node_modules as
// package-lock.json resolves them: no npm, no network.
import fs from "node:fs";
import path from "node:path";
import { REPO_DIR } from "./files.js";

/** Built files the images copy; missing ones mean the checkout is not built. */
const BUILT = ["origin/dist/src", "tracker/dist/src", "player/dist/www", "dashboard/dist/www"];
const FILES = ["package.json", "origin/package.json", "tracker/package.json", "infra/docker", "infra/nginx"];

interface LockEntry {
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Lock locations (`node_modules/a`, `node_modules/a/node_modules/b`, workspace links) that the
 * workspaces need at run time, resolved as Node does: the nearest node_modules up the tree.
 */
export function productionPackages(lock: Record<string, LockEntry>, workspaces: string[]): string[] {
  const seen = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    for (let base = from; ;) {
      const at = `${base ? `${base}/` : ""}node_modules/${name}`;
      if (lock[at]) return at;
      if (!base) return undefined;
      const i = base.lastIndexOf("/node_modules/");
      base = i < 0 ? "" : base.slice(0, i);
    }
  };
  const walk = (at: string) => {
    if (seen.has(at)) return;
    seen.add(at);
    const entry = lock[at]!;
    const from = entry.link ? entry.resolved! : at;
    if (entry.link) walk(from);
    const pkg = lock[from]!;
    for (const [kind, deps] of [
      ["dependencies", pkg.dependencies],
      ["optionalDependencies", pkg.optionalDependencies],
      ["peerDependencies", pkg.peerDependencies],
    ] as const) {
      for (const name of Object.keys(deps ?? {})) {
        const dep = resolve(from, name);
        if (dep) walk(dep);
        else if (kind === "dependencies") throw new Error(`package-lock.json: ${from} needs ${name}, which it does not list`);
      }
    }
  };
  for (const w of workspaces) walk(w);
  return [...seen].filter((at) => at.includes("node_modules/")).sort();
}

/** Fills `dir` (empty) with the context; returns the node_modules locations it copied. */
export function stageBuildContext(dir: string): string[] {
  const missing = BUILT.filter((p) => !fs.existsSync(path.join(REPO_DIR, p)));
  if (missing.length > 0) throw new Error(`the checkout is not built (missing ${missing.join(", ")}): npm run build first`);
  const copy = (rel: string) => fs.cpSync(path.join(REPO_DIR, rel), path.join(dir, rel), { recursive: true, verbatimSymlinks: true });
  for (const rel of [...FILES, ...BUILT]) copy(rel);
  const lock = (JSON.parse(fs.readFileSync(path.join(REPO_DIR, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> }).packages;
  const copied: string[] = [];
  for (const at of productionPackages(lock, ["origin", "tracker"])) {
    if (copied.some((c) => at.startsWith(`${c}/`))) continue; // inside one copied already
    const entry = lock[at]!;
    const target = path.join(dir, at);
    if (entry.link) {
      // A workspace: the same relative link as npm's (node_modules/@peercast/origin -> ../../origin).
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.symlinkSync(path.relative(path.dirname(target), path.join(dir, entry.resolved!)), target);
    } else if (fs.existsSync(path.join(REPO_DIR, at))) {
      copy(at);
    } else {
      continue; // an optional package for another platform, not installed
    }
    copied.push(at);
  }
  return copied;
}
