import pino, { type Logger } from "pino";

/** JSON logs on stdout. Keys are never logged on purpose; redaction is the safety net. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "origin" },
    redact: { paths: ["key", "streamKey", "*.key", "*.streamKey"], censor: "[redacted]" },
  });
}
