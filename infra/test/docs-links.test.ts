// The user-facing documents' links: every relative link and image names a file that exists (an
// anchor, a heading in it), and loadtest/results/ holds exactly the load-test runs the docs quote
// by path (runs kept only in git history are named without the path; NAME in capitals is a
// placeholder). Web links are not fetched: the suite runs without a network.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { REPO_DIR } from "./support/files.js";

const DOCS = [
  "README.md",
  "CONTRIBUTING.md",
  "SECURITY.md",
  ...fs
    .readdirSync(path.join(REPO_DIR, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** Relative targets of a Markdown document: `[text](target)` and `<img src="target">`. */
function linkTargets(markdown: string): string[] {
  const links = [...markdown.matchAll(/\]\(([^)\s]+)\)/g), ...markdown.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  return links.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l));
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, "utf8");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1]!)));
}

test("headings' anchors and link targets are read as GitHub renders them", () => {
  assert.equal(headingAnchor("What to expect at scale"), "what-to-expect-at-scale");
  assert.equal(headingAnchor("Patches to `p2p-media-loader-core` 2.3.1"), "patches-to-p2p-media-loader-core-231");
  assert.deepEqual(linkTargets('see [a](docs/a.md#x), [web](https://example.org), <img src="docs/images/b.png" alt="">, [m](mailto:x@y)'), [
    "docs/a.md#x",
    "docs/images/b.png",
  ]);
});

test("every relative link in the docs names a file and heading that exist", () => {
  const broken: string[] = [];
  for (const doc of DOCS) {
    const from = path.join(REPO_DIR, doc);
    for (const target of linkTargets(fs.readFileSync(from, "utf8"))) {
      const [file, anchor] = target.split("#") as [string, string | undefined];
      const resolved = file === "" ? from : path.resolve(path.dirname(from), decodeURIComponent(file));
      if (!fs.existsSync(resolved)) broken.push(`${doc}: ${target} (no such file)`);
      else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});

test("loadtest/results/ keeps exactly the runs the docs name by path", () => {
  const quoted = new Map<string, string>();
  for (const doc of DOCS) {
    for (const m of fs.readFileSync(path.join(REPO_DIR, doc), "utf8").matchAll(/loadtest\/results\/([a-z\d][\w.-]*)/g)) quoted.set(m[1]!, doc);
  }
  const kept = fs.readdirSync(path.join(REPO_DIR, "loadtest", "results"));
  assert.deepEqual(
    [...quoted].filter(([run]) => !kept.includes(run)).map(([run, doc]) => `${doc}: loadtest/results/${run}`),
    [],
    "quoted but not kept",
  );
  // Runs nobody quotes belong in the ignored loadtest/runs/ (git history keeps older ones).
  assert.deepEqual(
    kept.filter((run) => !quoted.has(run)),
    [],
    "kept but not quoted",
  );
});
