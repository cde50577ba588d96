// One logger factory for every service: JSON lines for machines (a pipe, a container, a log
// shipper), readable lines on a terminal, or as PEERCAST_LOG_FORMAT asks.
import pino, { type Logger, type LoggerOptions } from "pino";
import pretty, { prettyFactory } from "pino-pretty";

export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How readable lines look. */
const READABLE_LOG_OPTIONS = {
  translateTime: "SYS:HH:MM:ss.l",
  ignore: "pid,hostname,service",
  messageFormat: "{service}: {msg}",
  singleLine: true,
} as const;

export interface LoggerSpec {
  service: string;
  level: string;
  /** auto: readable when stdout is a terminal, JSON otherwise. */
  format?: LogFormat;
  redact?: LoggerOptions["redact"];
}

export function createLogger(spec: LoggerSpec, stdout: NodeJS.WriteStream = process.stdout): Logger {
  const options: LoggerOptions = { level: spec.level, base: { service: spec.service }, ...(spec.redact ? { redact: spec.redact } : {}) };
  const format = spec.format ?? "auto";
  const readable = format === "pretty" || (format === "auto" && stdout.isTTY === true);
  // Synchronous, as pino's own stdout destination: nothing is lost when a service exits at once.
  return readable ? pino(options, pretty({ ...READABLE_LOG_OPTIONS, destination: stdout, sync: true })) : pino(options, stdout);
}

/** Renders one JSON log line as readable text (`npm start` shows its services' lines so on a terminal). */
export function readableLogLines(colorize?: boolean): (line: string) => string {
  return prettyFactory({ ...READABLE_LOG_OPTIONS, ...(colorize === undefined ? {} : { colorize }) });
}
