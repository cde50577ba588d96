import type { Logger } from "pino";
import { keyFingerprint } from "../keys/key-store.js";

// node-media-server logs with console.log("[time] [LEVEL] message"), and its messages carry
// stream paths, i.e. stream keys. It has no logger option, so its lines are taken off
// console.log here, keys replaced by fingerprints, and sent through pino.
const LINE = /^\[[^\]]*\] \[(TRACE|DEBUG|INFO|WARN|ERROR)\] ([\s\S]*)$/;
// "/app/name" stream paths and "name=..." fields: the name part is the key. The library puts
// the name field last, and a pasted key may hold spaces: it runs to the end of the line.
const STREAM_PATH = /\/([A-Za-z0-9_-]+)\/([^\s/,]+)/g;
const NAME_FIELD = /\bname=(.*)$/gm;

export function redactStreamKeys(message: string): string {
  return message
    .replace(STREAM_PATH, (_m, app: string, name: string) => `/${app}/${keyFingerprint(name)}`)
    .replace(NAME_FIELD, (_m, name: string) => `name=${keyFingerprint(name)}`);
}

let installed: Logger | undefined;

/** Routes the library's console lines to `log` (debug, or warn for its errors). Idempotent. */
export function bridgeLibraryLogs(log: Logger): void {
  if (installed) {
    installed = log;
    return;
  }
  installed = log;
  const original = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    const m = args.length === 1 && typeof args[0] === "string" ? LINE.exec(args[0]) : null;
    if (!m) return original(...args);
    const text = redactStreamKeys(m[2]!);
    if (m[1] === "ERROR" || m[1] === "WARN") installed!.warn(text);
    else installed!.debug(text);
  };
}
