// Reading the shipped deployment files: YAML documents, Dockerfile instructions.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { INFRA_DIR } from "./nginx.js";

export const REPO_DIR = path.dirname(INFRA_DIR);

export function yamlDocs(file: string): Record<string, any>[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(INFRA_DIR, file), "utf8"));
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`);
  return docs.map((d) => d.toJS() as Record<string, any>).filter((d) => d !== null);
}

export interface Dockerfile {
  from: string[];
  /** ARG defaults. */
  args: Record<string, string>;
  /** The images the stages start from, ARG defaults applied (no stage names, no scratch). */
  images: string[];
  user: string | undefined;
  cmd: string[];
  healthcheck: string[];
  run: string[];
}

/** The instructions that matter here; CMD and HEALTHCHECK in exec (JSON) form only. */
export function dockerfile(file: string): Dockerfile {
  const text = fs.readFileSync(path.join(INFRA_DIR, file), "utf8").replace(/\\\n/g, " ");
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const args = (kw: string) => lines.filter((l) => l.startsWith(`${kw} `)).map((l) => l.slice(kw.length + 1).trim());
  const json = (s: string | undefined, what: string) => {
    if (!s?.startsWith("[")) throw new Error(`${file}: ${what} must be in exec (JSON) form`);
    return JSON.parse(s) as string[];
  };
  const hc = args("HEALTHCHECK").at(-1);
  const defaults = Object.fromEntries(args("ARG").map((a) => [a.split("=")[0]!, a.split("=").slice(1).join("=")]));
  const from = args("FROM");
  const stages = from.map((f) => / AS (\S+)$/i.exec(f)?.[1]).filter(Boolean);
  const images = from
    .map((f) => f.split(/\s+/)[0]!.replace(/\$\{(\w+)\}/g, (_, name: string) => defaults[name] ?? ""))
    .filter((image) => image !== "scratch" && !stages.includes(image));
  return {
    from,
    args: defaults,
    images,
    user: args("USER").at(-1),
    cmd: json(args("CMD").at(-1), "CMD"),
    healthcheck: hc ? json(hc.slice(hc.indexOf("CMD ") + 4).trim(), "HEALTHCHECK CMD") : [],
    run: args("RUN"),
  };
}
