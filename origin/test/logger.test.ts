// One logger factory for both services: JSON lines unless a terminal (or the config) asks for
// readable ones; redaction holds in both.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger, readableLogLines, type LogFormat } from "../src/service/index.js";

/** A stdout stand-in: a terminal or a pipe, keeping what is written. */
function stdout(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString()), done()) });
  return Object.assign(out, { isTTY, text: () => chunks.join("") }) as unknown as NodeJS.WriteStream & { text: () => string };
}

const JSON_LINE = /^\{"level":30,"time":\d+,"service":"origin","port":8080,"key":"\[redacted\]","msg":"origin ready"\}\n$/;
const READABLE_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*: origin: origin ready.* \{"port":8080,"key":"\[redacted\]"\}\n$/;

test("logs are JSON on a pipe and readable on a terminal (auto), or as PEERCAST_LOG_FORMAT says; redacted either way", () => {
  const cases: [LogFormat | undefined, boolean, RegExp][] = [
    [undefined, false, JSON_LINE],
    ["auto", true, READABLE_LINE],
    ["json", true, JSON_LINE],
    ["pretty", false, READABLE_LINE],
  ];
  for (const [format, isTTY, shape] of cases) {
    const out = stdout(isTTY);
    const log = createLogger({ service: "origin", level: "info", format, redact: { paths: ["key"], censor: "[redacted]" } }, out);
    log.info({ port: 8080, key: "live_secret" }, "origin ready");
    assert.match(
      out.text().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), ""),
      shape,
      `${format} on ${isTTY ? "a terminal" : "a pipe"}: ${out.text()}`,
    );
  }
});

test("a JSON line renders as the services show it on a terminal", () => {
  const line = JSON.stringify({ level: 40, time: Date.now(), service: "tracker", msg: "origin unreachable", origin: "http://127.0.0.1:8080" });
  assert.match(readableLogLines(false)(line), /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: tracker: origin unreachable \{"origin":"http:\/\/127\.0\.0\.1:8080"\}\n$/);
});
