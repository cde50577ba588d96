import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../src/config.js";
import { statsRoute } from "../src/http/stats-route.js";
import { createMetrics, type Metrics } from "../src/metrics.js";
import { parseBeacon } from "../src/stats/beacon-schema.js";
import { ClientLimiter, clientAddress, rateKey } from "../src/stats/client-limiter.js";
import { ViewerStats, type ViewerStatsOptions } from "../src/stats/viewer-stats.js";
import { beacon } from "./support/beacons.js";

const INTERVAL = 5000;
/** The client address key most beacons here come from. */
const A = "198.51.100.7";

function setup(o: Partial<ViewerStatsOptions> = {}) {
  const clock = { t: 1_000_000 };
  const metrics = createMetrics();
  const stats = new ViewerStats({
    metrics,
    intervalMs: INTERVAL,
    knownStream: (s) => s === "main" || s === "other",
    ratePerMin: 60,
    burst: 5,
    maxViewers: 100,
    viewersPerAddress: 50,
    now: () => clock.t,
    ...o,
  });
  const advance = (ms: number) => (clock.t += ms);
  return { stats, metrics, advance };
}

type Labels = Record<string, string>;
/** A sample's value; 0 when the series does not exist yet. */
async function value(metric: { get(): Promise<{ values: { labels: object; value: number; metricName?: string }[] }> }, labels: Labels, metricName?: string) {
  const { values } = await metric.get();
  const hit = values.find((v) => (!metricName || v.metricName === metricName) && Object.entries(labels).every(([k, x]) => (v.labels as Labels)[k] === x));
  return hit?.value ?? 0;
}

/** Every viewer metric, to show a refused beacon changed none. */
async function viewerMetrics(m: Metrics): Promise<string> {
  const all = await m.registry.getMetricsAsJSON();
  return JSON.stringify(all.filter((x) => x.name.startsWith("peercast_viewer")));
}

const main = { stream: "main" };

test("cumulative counters: the origin adds the differences, per stream and source", async () => {
  const { stats, metrics: m, advance } = setup();
  assert.equal(stats.record(beacon("viewer-aaa", { httpBytes: 1000, p2pBytes: 0, stalls: 1, stallMs: 500, playingMs: 4000, uploadedBytes: 10 }), A), undefined);
  advance(5000);
  assert.equal(
    stats.record(
      beacon("viewer-aaa", { httpBytes: 1500, p2pBytes: 3000, stalls: 1, stallMs: 500, playingMs: 9000, uploadedBytes: 2010, rejectedSegments: 1 }),
      A,
    ),
    undefined,
  );
  assert.equal(stats.record(beacon("viewer-bbb", { httpBytes: 700, stream: "other" }), A), undefined);

  assert.equal(await value(m.viewerBytes, { ...main, source: "http" }), 1500);
  assert.equal(await value(m.viewerBytes, { ...main, source: "p2p" }), 3000);
  assert.equal(await value(m.viewerBytes, { stream: "other", source: "http" }), 700);
  assert.equal(await value(m.viewerUploadedBytes, main), 2010);
  assert.equal(await value(m.viewerRejectedSegments, main), 1);
  assert.equal(await value(m.viewerStalls, main), 1);
  assert.equal(await value(m.viewerStallSeconds, main), 0.5);
  assert.equal(await value(m.viewerPlayingSeconds, main), 9);
  assert.equal(await value(m.statsBeacons, { result: "accepted" }), 3);
  // Share over the current viewers' bytes: 3000 of 4500.
  assert.equal(await value(m.viewerPeerShare, main), 3000 / 4500);
});

test("a beacon whose counters go backwards is refused and changes nothing", async () => {
  const { stats, metrics: m, advance } = setup();
  stats.record(beacon("viewer-aaa", { httpBytes: 1000, playingMs: 5000, peers: 3 }), A);
  advance(2000);
  const before = await viewerMetrics(m);
  const refusal = stats.record(beacon("viewer-aaa", { httpBytes: 900, p2pBytes: 99_999, playingMs: 7000, peers: 9 }), A);
  assert.deepEqual(refusal, { result: "backwards", status: 400, error: "httpBytes: lower than this viewer reported before" });
  assert.equal(await viewerMetrics(m), before);
  assert.equal(await value(m.statsBeacons, { result: "backwards" }), 1);
  // The next good beacon counts from the last accepted one, not from the refused one.
  assert.equal(stats.record(beacon("viewer-aaa", { httpBytes: 1200, playingMs: 7000, peers: 2 }), A), undefined);
  assert.equal(await value(m.viewerBytes, { ...main, source: "http" }), 1200);
  assert.equal(await value(m.viewerBytes, { ...main, source: "p2p" }), 0);
  assert.equal(await value(m.viewerPeers, main), 2);
});

test("startup is observed once per viewer, latency once per beacon, in seconds", async () => {
  const { stats, metrics: m, advance } = setup();
  stats.record(beacon("viewer-aaa", { startupMs: 1500, latencyMs: 4000 }), A);
  advance(1000);
  stats.record(beacon("viewer-aaa", { startupMs: 1500, latencyMs: 6000 }), A);
  advance(1000);
  stats.record(beacon("viewer-aaa", { latencyMode: "low" }), A);
  assert.equal(await value(m.viewerStartup, main, "peercast_viewer_startup_seconds_count"), 1);
  assert.equal(await value(m.viewerStartup, main, "peercast_viewer_startup_seconds_sum"), 1.5);
  assert.equal(await value(m.viewerLatency, { ...main, mode: "balanced" }, "peercast_viewer_latency_seconds_count"), 2);
  assert.equal(await value(m.viewerLatency, { ...main, mode: "balanced" }, "peercast_viewer_latency_seconds_sum"), 10);
  assert.equal(await value(m.viewerLatency, { ...main, mode: "low" }, "peercast_viewer_latency_seconds_count"), 0);
});

test("viewers: distinct ids heard from within 3 intervals; quiet ones expire, final ones leave at once", async () => {
  const { stats, metrics: m, advance } = setup();
  stats.record(beacon("viewer-aaa", { peers: 2, p2pBytes: 100 }), A);
  stats.record(beacon("viewer-bbb", { peers: 3, httpBytes: 100 }), A);
  stats.record(beacon("viewer-ccc", { stream: "other", peers: 1 }), A);
  assert.equal(stats.viewersOf("main"), 2);
  assert.equal(stats.viewersOf("other"), 1);
  assert.equal(stats.viewersOf("nobody"), 0);
  assert.equal(await value(m.viewers, main), 2);
  assert.equal(await value(m.viewerPeers, main), 5);
  assert.equal(await value(m.viewerPeerShare, main), 0.5);

  advance(2 * INTERVAL);
  stats.record(beacon("viewer-bbb", { peers: 4, httpBytes: 100 }), A);
  advance(INTERVAL + 1);
  stats.sweep(); // aaa and ccc are 3 intervals quiet, bbb is not
  assert.equal(stats.viewersOf("main"), 1);
  assert.equal(stats.viewersOf("other"), 0);
  assert.equal(await value(m.viewers, main), 1);
  assert.equal(await value(m.viewerPeers, main), 4);
  assert.equal(await value(m.viewerPeerShare, main), 0, "only bbb's bytes remain, all over HTTP");

  // The page-hide beacon may come right after a regular one, and takes the viewer out.
  assert.equal(stats.record(beacon("viewer-bbb", { peers: 4, httpBytes: 150, final: true }), A), undefined);
  assert.equal(stats.viewersOf("main"), 0);
  assert.equal(await value(m.viewerPeers, main), 0);
  assert.equal(await value(m.viewerBytes, { ...main, source: "http" }), 150, "the final beacon's bytes count");
  // A second final so soon is a flood, not a page hide.
  assert.equal(stats.record(beacon("viewer-bbb", { httpBytes: 160, final: true }), A)?.result, "rate_limited");
  // A page restored from the back/forward cache comes back with the same id.
  advance(1000);
  assert.equal(stats.record(beacon("viewer-bbb", { httpBytes: 200 }), A), undefined);
  assert.equal(stats.viewersOf("main"), 1);
});

test("a quiet viewer's counters are kept past the count window, so it is not counted twice when it returns", async () => {
  const { stats, metrics: m, advance } = setup({ retainMs: 60_000 });
  stats.record(beacon("viewer-aaa", { httpBytes: 1000 }), A);
  advance(30_000);
  stats.sweep();
  assert.equal(stats.viewersOf("main"), 0);
  assert.equal(stats.trackedViewers, 1);
  stats.record(beacon("viewer-aaa", { httpBytes: 1100 }), A);
  assert.equal(await value(m.viewerBytes, { ...main, source: "http" }), 1100);
  assert.equal(stats.viewersOf("main"), 1);
  advance(60_000);
  stats.sweep();
  assert.equal(stats.trackedViewers, 0, "forgotten after retainMs");
  assert.equal(stats.viewersOf("main"), 0);
});

test("unknown streams and a viewer switching streams are refused without changes", async () => {
  const { stats, metrics: m, advance } = setup();
  const before = await viewerMetrics(m);
  assert.deepEqual(stats.record(beacon("viewer-aaa", { stream: "nope", httpBytes: 5 }), A), {
    result: "unknown_stream",
    status: 400,
    error: "stream: not a configured stream",
  });
  assert.equal(await viewerMetrics(m), before);
  assert.equal(stats.trackedViewers, 0);
  stats.record(beacon("viewer-aaa", { httpBytes: 5 }), A);
  advance(2000);
  const after = await viewerMetrics(m);
  assert.equal(stats.record(beacon("viewer-aaa", { stream: "other", httpBytes: 50 }), A)?.result, "stream_changed");
  assert.equal(await viewerMetrics(m), after);
  assert.equal(await value(m.statsBeacons, { result: "unknown_stream" }), 1);
  assert.equal(await value(m.statsBeacons, { result: "stream_changed" }), 1);
});

test("one accepted beacon per viewer per second; the refused one changes nothing", async () => {
  const { stats, metrics: m, advance } = setup();
  stats.record(beacon("viewer-aaa", { httpBytes: 100 }), A);
  advance(999);
  const before = await viewerMetrics(m);
  assert.deepEqual(stats.record(beacon("viewer-aaa", { httpBytes: 200 }), A), {
    result: "rate_limited",
    status: 429,
    error: "at most one beacon per 1000 ms per viewer",
  });
  assert.equal(await viewerMetrics(m), before);
  advance(1);
  assert.equal(stats.record(beacon("viewer-aaa", { httpBytes: 200 }), A), undefined);
  assert.equal(await value(m.viewerBytes, { ...main, source: "http" }), 200);
});

test("the viewer table is capped: new viewers get 503 unless the longest-quiet one no longer counts", async () => {
  const { stats, metrics: m, advance } = setup({ maxViewers: 2 });
  stats.record(beacon("viewer-aaa", { peers: 1, httpBytes: 10 }), A);
  advance(1000);
  stats.record(beacon("viewer-bbb", { peers: 2 }), A);
  const before = await viewerMetrics(m);
  assert.deepEqual(stats.record(beacon("viewer-ccc", { httpBytes: 99 }), A), {
    result: "full",
    status: 503,
    error: "too many viewers are reporting; try again later",
  });
  assert.equal(await viewerMetrics(m), before);
  assert.equal(await value(m.statsBeacons, { result: "full" }), 1);
  assert.equal(stats.trackedViewers, 2);
  // Known viewers keep reporting meanwhile.
  advance(10_000);
  assert.equal(stats.record(beacon("viewer-bbb", { peers: 2 }), A), undefined);
  // aaa has been quiet for 3 intervals (not swept yet): it makes room.
  advance(INTERVAL);
  assert.equal(stats.record(beacon("viewer-ccc", { peers: 4 }), A), undefined);
  assert.equal(stats.trackedViewers, 2);
  assert.equal(stats.viewersOf("main"), 2);
  assert.equal(await value(m.viewerPeers, main), 6);
});

test("live viewers are capped per client address: a new viewerId beyond is refused (429), other addresses are not", async () => {
  const { stats, metrics: m, advance } = setup({ viewersPerAddress: 3 });
  const nat = rateKey("2001:db8:1:2::a"); // IPv6 counts per /64: one household or host
  for (const id of ["viewer-aaa", "viewer-bbb", "viewer-ccc"]) assert.equal(stats.record(beacon(id), nat), undefined);
  const before = await viewerMetrics(m);
  assert.deepEqual(stats.record(beacon("viewer-ddd"), rateKey("2001:db8:1:2::b")), {
    result: "viewers_per_address",
    status: 429,
    error: "too many viewers are reporting from this address (at most 3); try again later",
  });
  assert.equal(await viewerMetrics(m), before, "the refused viewer changed nothing");
  assert.equal(stats.viewersOf("main"), 3);
  assert.equal(stats.trackedViewers, 3, "nor did it take a place in the viewer table");
  assert.equal(await value(m.statsBeacons, { result: "viewers_per_address" }), 1);
  // Another address is counted all the same, and the capped address's own viewers keep reporting.
  assert.equal(stats.record(beacon("viewer-eee"), A), undefined);
  advance(1000);
  assert.equal(stats.record(beacon("viewer-aaa", { httpBytes: 10 }), nat), undefined);
  assert.equal(stats.viewersOf("main"), 4);
  // A viewer that leaves (final) makes room at once; one that goes quiet does after 3 intervals.
  assert.equal(stats.record(beacon("viewer-bbb", { final: true }), nat), undefined);
  assert.equal(stats.record(beacon("viewer-ddd"), nat), undefined);
  assert.equal(stats.record(beacon("viewer-fff"), nat)?.result, "viewers_per_address");
  advance(3 * INTERVAL);
  stats.record(beacon("viewer-aaa", { httpBytes: 20 }), nat);
  stats.record(beacon("viewer-ddd", { httpBytes: 20 }), nat);
  stats.sweep(); // ccc is 3 intervals quiet
  assert.equal(stats.record(beacon("viewer-fff"), nat), undefined);
  // A quiet viewer coming back needs room like a new one.
  advance(1000);
  assert.equal(stats.record(beacon("viewer-ccc", { httpBytes: 5 }), nat)?.result, "viewers_per_address");
  assert.equal(stats.viewersOf("main"), 3, "the address's cap (the other address's viewer went quiet)");
});

test("POST /api/stats counts viewers under the sender's address (behind a trusted proxy: its X-Forwarded-For entry)", async () => {
  const { stats, metrics } = setup({ viewersPerAddress: 2, ratePerMin: 60_000, burst: 100 });
  const app = statsRoute({ viewerStats: stats, metrics, trustProxy: true });
  const post = (id: string, forwardedFor: string) =>
    app.request("/api/stats", {
      method: "POST",
      body: JSON.stringify(beacon(id)),
      headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    });
  assert.equal((await post("viewer-aaa", "2001:db8:7:7::1")).status, 204);
  assert.equal((await post("viewer-bbb", "2001:db8:7:7::2")).status, 204);
  const refused = await post("viewer-ccc", "203.0.113.5, 2001:db8:7:7:ffff::3");
  assert.equal(refused.status, 429, "the same /64");
  assert.equal(refused.headers.get("retry-after"), "30");
  assert.deepEqual(await refused.json(), { error: "too many viewers are reporting from this address (at most 2); try again later" });
  assert.equal((await post("viewer-ccc", "2001:db8:7:8::1")).status, 204, "another /64");
  assert.equal(stats.viewersOf("main"), 3);
});

test("client buckets: a burst, then the sustained rate; bounded, and full buckets swept", () => {
  const clock = { t: 0 };
  const limiter = new ClientLimiter({ ratePerMin: 60, burst: 3, maxClients: 2, now: () => clock.t });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take("1.2.3.4")),
    [true, true, true, false],
  );
  assert.equal(limiter.take("5.6.7.8"), true, "another client has its own bucket");
  clock.t += 1000; // one token a second
  assert.equal(limiter.take("1.2.3.4"), true);
  assert.equal(limiter.take("1.2.3.4"), false);
  limiter.take("9.9.9.9");
  assert.equal(limiter.size, 2, "the oldest bucket made room");
  clock.t += 3000;
  limiter.sweep();
  assert.equal(limiter.size, 0);

  const { stats } = setup({ ratePerMin: 60, burst: 2 });
  assert.deepEqual(
    [1, 2, 3].map(() => stats.admitClient("10.0.0.1")),
    [true, true, false],
  );
});

test("client addresses: X-Forwarded-For only behind a trusted proxy, its rightmost entry; IPv6 by /64", () => {
  assert.equal(clientAddress("10.0.0.1", "1.1.1.1", false), "10.0.0.1");
  assert.equal(clientAddress("10.0.0.1", "6.6.6.6, 1.1.1.1", true), "1.1.1.1");
  assert.equal(clientAddress("10.0.0.1", "1.1.1.1, garbage", true), "10.0.0.1");
  assert.equal(clientAddress("10.0.0.1", undefined, true), "10.0.0.1");
  assert.equal(clientAddress(undefined, undefined, false), "unknown");
  assert.equal(rateKey("1.2.3.4"), "1.2.3.4");
  assert.equal(rateKey("::ffff:1.2.3.4"), "1.2.3.4");
  assert.equal(rateKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(rateKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  assert.equal(rateKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(rateKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(rateKey("::1"), "0:0:0:0::/64");
  assert.equal(rateKey("2001:DB8:0001::"), "2001:db8:1:0::/64");
});

test("beacon schema: one `field: reason` line that never repeats the value", () => {
  const good = beacon("viewer-aaa", {
    sessionId: "abc123",
    rendition: "720p",
    startupMs: 800,
    latencyMs: 3000,
    p2p: { download: false, upload: false, reason: "save-data" },
    final: true,
  });
  assert.deepEqual(parseBeacon(good), { ok: true, beacon: good });
  assert.deepEqual(parseBeacon({ ...good, later: "field" }), { ok: true, beacon: good }, "unknown fields are dropped");

  const error = (o: unknown) => {
    const r = parseBeacon(o);
    assert.equal(r.ok, false);
    return (r as { error: string }).error;
  };
  const huge = "9".repeat(5000);
  assert.equal(error({ ...good, httpBytes: huge }), "httpBytes: expected a number");
  assert.equal(error({ ...good, httpBytes: -1 }), "httpBytes: must be >= 0");
  assert.equal(error({ ...good, stallMs: 1.5 }), "stallMs: expected an integer");
  assert.equal(error({ ...good, p2pBytes: 2 ** 53 }), "p2pBytes: must be <= 9007199254740991");
  assert.equal(error({ ...good, p2pBytes: Infinity }), "p2pBytes: expected a finite number");
  assert.equal(error({ ...good, peers: 10_001 }), "peers: must be <= 10000");
  assert.equal(error({ ...good, latencyMs: -5 }), "latencyMs: must be >= 0");
  assert.equal(error({ ...good, startupMs: 3_600_001 }), "startupMs: must be <= 3600000");
  assert.equal(error({ ...good, viewerId: huge }), "viewerId: expected 8-64 of A-Z a-z 0-9 _ -");
  assert.equal(error({ ...good, viewerId: "short" }), "viewerId: expected 8-64 of A-Z a-z 0-9 _ -");
  assert.equal(error({ ...good, stream: "Main" }), "stream: expected 1-64 of a-z 0-9 _ -");
  assert.equal(error({ ...good, sessionId: "a-b" }), "sessionId: expected 1-32 of A-Z a-z 0-9");
  assert.equal(error({ ...good, rendition: "7".repeat(65) }), "rendition: expected 1-64 of A-Z a-z 0-9 _ -");
  assert.equal(error({ ...good, v: 2 }), "v: expected 1");
  assert.equal(error({ ...good, latencyMode: "fast" }), 'latencyMode: expected "balanced" or "low"');
  assert.equal(error({ ...good, p2p: { download: true, upload: true, reason: huge } }).startsWith('p2p.reason: expected "operator" or'), true);
  assert.equal(error({ ...good, p2p: null }), "p2p: expected an object");
  assert.equal(error({ ...good, final: "yes" }), "final: expected a boolean");
  const { playingMs: _, ...missing } = good;
  assert.equal(error(missing), "playingMs: required");
  assert.equal(error([good]), "body: expected an object");
  assert.equal(error(null), "body: expected an object");
});

test("stats config: defaults, and invalid values name the variable", () => {
  const c = loadConfig({});
  // 2000 viewers behind one address (a NAT) at one beacon per 5 s: 400 a second, one interval's worth at once.
  // At most 2000 live viewers counted per address: that NAT, and no more for one forging viewerIds.
  assert.deepEqual(c.stats, { ratePerMin: 24_000, burst: 2000, maxViewers: 100_000, viewersPerAddress: 2000 });
  assert.equal(c.http.trustProxy, false);
  assert.equal(loadConfig({ PEERCAST_TRUST_PROXY: "1" }).http.trustProxy, true);
  assert.equal(loadConfig({ PEERCAST_STATS_RATE_PER_MIN: "30" }).stats.ratePerMin, 30);
  assert.throws(() => loadConfig({ PEERCAST_STATS_RATE_PER_MIN: "0" }), /PEERCAST_STATS_RATE_PER_MIN/);
  assert.throws(() => loadConfig({ PEERCAST_STATS_BURST: "many" }), /PEERCAST_STATS_BURST/);
  assert.throws(() => loadConfig({ PEERCAST_STATS_MAX_VIEWERS: "-1" }), /PEERCAST_STATS_MAX_VIEWERS/);
  assert.equal(loadConfig({ PEERCAST_STATS_VIEWERS_PER_ADDRESS: "50" }).stats.viewersPerAddress, 50);
  assert.throws(() => loadConfig({ PEERCAST_STATS_VIEWERS_PER_ADDRESS: "0" }), /PEERCAST_STATS_VIEWERS_PER_ADDRESS/);
  assert.throws(() => loadConfig({ PEERCAST_TRUST_PROXY: "sometimes" }), /PEERCAST_TRUST_PROXY/);
});
