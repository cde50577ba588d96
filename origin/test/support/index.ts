// The origin's test harness, shared with the other packages' end-to-end tests.
export * from "./origin-process.js";
export * from "./publisher.js";
export * from "./hls.js";
export * from "./browser.js";
export * from "./beacons.js";
