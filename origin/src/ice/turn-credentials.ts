// TURN credentials per viewer, in coturn's shared-secret scheme (use-auth-secret, the "TURN REST
// API" draft): username `expiry:id`, password base64(HMAC-SHA1(secret, username)). coturn checks
// them without asking us; they stop working at the expiry, so a leaked one is worth little.
import { createHmac, randomBytes } from "node:crypto";
import type { TurnConfig } from "../config.js";
import type { IceServer } from "../wire/index.js";

export function mintTurnCredentials(turn: TurnConfig, nowMs: number = Date.now()): IceServer {
  const expiry = Math.floor(nowMs / 1000) + turn.ttlSec;
  const username = `${expiry}:${randomBytes(6).toString("hex")}`;
  const credential = createHmac("sha1", turn.secret).update(username).digest("base64");
  return { urls: turn.urls, username, credential };
}
