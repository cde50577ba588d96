// Built browser files (player, dashboard), read once at start: they do not change while the
// origin runs, and a request can only ever name a file that is in the map.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
};

export const contentType = (name: string) => TYPES[path.extname(name)] ?? "application/octet-stream";

export function loadStaticFiles(dir: string, required: string, log: Logger): Map<string, Uint8Array<ArrayBuffer>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  try {
    for (const f of fs.readdirSync(dir))
      if (/^[A-Za-z0-9._-]+$/.test(f) && TYPES[path.extname(f)]) files.set(f, new Uint8Array(fs.readFileSync(path.join(dir, f))));
  } catch {
    /* reported below */
  }
  if (!files.has(required)) log.warn({ dir }, `${required} not found (run npm run build): pages that need it answer 503`);
  return files;
}
