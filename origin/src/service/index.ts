// What every Peercast service shares at run time: config from the environment, start, stop, and
// how a client address is read and keyed for per-address limits (IPv6 by /64).
export * from "./env-config.js";
export * from "./lifecycle.js";
export { ClientLimiter, type ClientLimiterOptions, clientAddress, rateKey } from "../stats/client-limiter.js";
export { envMeta, envTable, tableMarkers, withTable, type EnvMeta } from "./env-docs.js";
export { createLogger, LOG_FORMATS, readableLogLines, type LogFormat, type LoggerSpec } from "./logger.js";
