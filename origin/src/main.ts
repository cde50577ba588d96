import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve } from "@hono/node-server";
import { loadConfig } from "./config.js";
import { createApp } from "./http/app.js";
import { createMetricsApp } from "./http/metrics-app.js";
import { RtmpIngest } from "./ingest/rtmp-server.js";
import { KeyStore, firstKeys, keyFingerprint, writeKeysFile } from "./keys/key-store.js";
import { OperatorAuth } from "./operator/auth.js";
import { MetricSamples } from "./operator/snapshots.js";
import { operatorToken } from "./operator/token-file.js";
import { createMetrics } from "./metrics.js";
import { configOrExit, createLogger, runService, stopOnSignals } from "./service/index.js";
import { SessionManager } from "./session/session-manager.js";
import { ViewerStats } from "./stats/viewer-stats.js";
import { TestSource } from "./testsource/test-source.js";

async function main(): Promise<void> {
  const config = configOrExit("origin", () => loadConfig());
  // Keys are never logged on purpose; redaction is the safety net.
  const redact = { paths: ["key", "streamKey", "*.key", "*.streamKey"], censor: "[redacted]" };
  const log = createLogger({ service: "origin", level: config.logLevel, format: config.logFormat, redact });
  // A bug must not take every stream down silently: log it loudly, keep serving.
  process.on("unhandledRejection", (err) => log.error({ err: String(err) }, "unhandled rejection"));
  const metrics = createMetrics();

  // Sessions cannot outlive the process that wrote them: a previous run's files are stale.
  await fs.promises.rm(path.join(config.dataDir, "hls"), { recursive: true, force: true });
  if (!fs.existsSync(config.keysFile)) {
    const first = firstKeys(config.testSource);
    writeKeysFile(config.keysFile, first);
    log.info({ file: config.keysFile, keys: first.keys.map((k) => ({ stream: k.stream, keyFingerprint: keyFingerprint(k.key) })) }, "created a keys file");
  }
  const keys = new KeyStore(config.keysFile, log.child({ component: "keys" }));
  keys.start();

  const sessions = new SessionManager(config, keys, metrics, log);
  const ingest = new RtmpIngest({
    host: config.rtmp.host,
    port: config.rtmp.port,
    app: "live",
    maxConnections: config.rtmp.maxConnections,
    maxConnectionsPerAddress: config.rtmp.maxConnectionsPerAddress,
    handshakeTimeoutMs: config.rtmp.handshakeTimeoutMs,
    timeoutMs: config.rtmp.publishTimeoutMs,
    dataDir: config.dataDir,
    keys,
    log,
    metrics,
    admit: (p) => sessions.admit(p),
  });
  const rtmpPort = await ingest.listen();

  const viewerStats = new ViewerStats({
    metrics,
    intervalMs: config.player.statsIntervalMs,
    // Configured streams and ones still visible (an ended session of a revoked key).
    knownStream: (name) => sessions.list(() => 0).some((s) => s.name === name),
    ...config.stats,
  });
  viewerStats.start();
  const token = operatorToken(config.operator.token, config.dataDir);
  if (token.file)
    log.info({ file: token.file }, token.generated ? "generated the operator token (log in to /dashboard with it)" : "operator token read from its file");
  const auth = new OperatorAuth({ token: token.token, sessionTtlMs: config.operator.sessionTtlSec * 1000, maxSessions: 1000 });
  const samples = new MetricSamples(metrics.registry, { intervalMs: 5000, trackerMetricsUrl: config.operator.trackerMetricsUrl });
  samples.start();
  const operator = {
    auth,
    samples,
    rtmpUrl: `rtmp://${new URL(config.http.publicUrl).hostname}:${rtmpPort}/live`,
    tokenFile: token.file,
    secureCookie: config.http.publicUrl.startsWith("https:"),
    dashboardDir: config.operator.dashboardDir,
  };
  const app = createApp({ sessions, metrics, log, viewerStats, trustProxy: config.http.trustProxy, config, keys, operator });
  const listen = async (fetch: typeof app.fetch, port: number, hostname: string) => {
    const server = serve({ fetch, port, hostname });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    return { server, port: (server.address() as AddressInfo).port };
  };
  const { server, port: httpPort } = await listen(app.fetch, config.http.port, config.http.host);
  const { server: metricsServer, port: metricsPort } = await listen(createMetricsApp(metrics).fetch, config.metrics.port, config.metrics.host);

  let testSource: TestSource | undefined;
  if (config.testSource.enabled) {
    const { stream, width, height } = config.testSource;
    const { url, expectConnection } = await ingest.listenInternal(stream);
    testSource = new TestSource({
      url,
      width,
      height,
      ffmpegPath: config.transcode.ffmpegPath,
      log: log.child({ component: "test-source", stream }),
      beforeStart: expectConnection,
    });
    testSource.start();
  }
  // npm start's banner reads this line (scripts/bootstrap.mjs): where OBS and viewers go.
  const { enabled, stream } = config.testSource;
  log.info({ httpPort, rtmpPort, metricsPort, publicUrl: config.http.publicUrl, keysFile: config.keysFile, testSource: { enabled, stream } }, "origin ready");

  // Sessions end their ffmpeg (SIGINT, then SIGKILL) within the stop timeout.
  stopOnSignals(log, config.transcode.stopTimeoutMs + 5000, async () => {
    samples.stop();
    await testSource?.stop();
    await ingest.close();
    await sessions.shutdown();
    keys.stop();
    viewerStats.stop();
    for (const s of [server, metricsServer]) {
      s.close();
      if ("closeAllConnections" in s) s.closeAllConnections();
    }
  });
}

runService("origin", main);
