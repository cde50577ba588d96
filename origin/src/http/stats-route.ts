// POST /api/stats: the players' stats beacons. Cheap refusals first (rate, type, size), then
// JSON, then the schema, then ViewerStats' own rules; every refusal is a JSON {error}.
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Metrics } from "../metrics.js";
import { parseBeacon } from "../stats/beacon-schema.js";
import { clientAddress, rateKey } from "../stats/client-limiter.js";
import type { BeaconResult, ViewerStats } from "../stats/viewer-stats.js";

export const MAX_BEACON_BYTES = 16 * 1024;
// sendBeacon with a string body sends text/plain, which also needs no CORS preflight.
const ACCEPTED_TYPES = new Set(["application/json", "text/plain"]);

export interface StatsRouteDeps {
  viewerStats: ViewerStats;
  metrics: Metrics;
  trustProxy: boolean;
}

export function statsRoute({ viewerStats, metrics, trustProxy }: StatsRouteDeps): Hono {
  const app = new Hono();
  const refuse = (c: Context, result: BeaconResult, status: 400 | 413 | 415 | 429 | 503, error: string) => {
    metrics.statsBeacons.inc({ result });
    if (status === 429) c.header("Retry-After", "1");
    return c.json({ error }, status);
  };
  // The sender's address key: its bucket of beacons, and the address its viewers count under.
  const clientKey = (c: Context) => rateKey(clientAddress(socketAddress(c), c.req.header("x-forwarded-for"), trustProxy));

  app.post(
    "/api/stats",
    async (c, next) => {
      if (!viewerStats.admitClient(clientKey(c))) return refuse(c, "rate_limited", 429, "too many stats beacons from this address");
      const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
      if (!type || !ACCEPTED_TYPES.has(type)) return refuse(c, "unsupported_type", 415, "expected application/json or text/plain");
      return next();
    },
    bodyLimit({ maxSize: MAX_BEACON_BYTES, onError: (c) => refuse(c, "too_large", 413, `body is larger than ${MAX_BEACON_BYTES} bytes`) }),
    async (c) => {
      let json: unknown;
      try {
        json = JSON.parse(await c.req.text());
      } catch {
        return refuse(c, "invalid", 400, "body is not JSON");
      }
      const parsed = parseBeacon(json);
      if (!parsed.ok) return refuse(c, "invalid", 400, parsed.error);
      const refusal = viewerStats.record(parsed.beacon, clientKey(c)); // counts its own result
      if (refusal) {
        // An address at its viewer cap stays there until some of its viewers leave or go quiet.
        if (refusal.status === 429) c.header("Retry-After", refusal.result === "viewers_per_address" ? "30" : "1");
        if (refusal.status === 503) c.header("Retry-After", "30");
        return c.json({ error: refusal.error }, refusal.status);
      }
      return c.body(null, 204);
    },
  );
  return app;
}

/** The peer's address; undefined outside a Node server (app.request() in a test). */
function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
