export * from "./system.js";
export * from "./viewers.js";
