// Prometheus' /metrics on a listener of its own (loopback by default): viewers' port never
// shows the operator's figures.
import { Hono } from "hono";
import type { Metrics } from "../metrics.js";

export function createMetricsApp(metrics: Metrics): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => c.body(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType }));
  app.notFound((c) => c.text("not found\n", 404));
  return app;
}
