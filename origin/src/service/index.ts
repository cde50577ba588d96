// What every Peercast service shares at run time: config from the environment, start, stop.
export * from "./env-config.js";
export * from "./lifecycle.js";
