// POST /api/stats on the real origin: good beacons show in /metrics and /api/streams, and every
// bad one is refused with a JSON reason and leaves the viewer metrics as they were.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startOrigin, type OriginHandle } from "./support/origin-process.js";
import { streamInfo } from "./support/hls.js";
import { beacon } from "./support/beacons.js";

const KEY = "stats-key-Qw3rty9";

/** A sample from the Prometheus text, whatever order its labels are printed in; 0 if absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split("\n").find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `) ? wanted.every((w) => l.includes(w)) : false));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

const viewerLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("peercast_viewer"))
    .join("\n");

describe("POST /api/stats", () => {
  let origin: OriginHandle;
  const url = () => `${origin.http}/api/stats`;
  const post = (body: BodyInit, type: string | null = "application/json", headers: Record<string, string> = {}) =>
    fetch(url(), { method: "POST", body, headers: { ...(type ? { "content-type": type } : {}), ...headers } });
  const metrics = async () => (await fetch(`${origin.metrics}/metrics`)).text();
  const beacons = (text: string, result: string) => sample(text, "peercast_stats_beacons_total", { result });

  /** The request is refused with `status` and a JSON error, counted under `result`, and changes nothing else. */
  async function refused(send: () => Promise<Response>, status: number, result: string, error?: string | RegExp) {
    const was = await metrics();
    const res = await send();
    assert.equal(res.status, status);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal(res.headers.get("access-control-allow-origin"), "*", "players on other sites can read the reason");
    const body = (await res.json()) as { error: unknown };
    assert.equal(typeof body.error, "string");
    if (typeof error === "string") assert.equal(body.error, error);
    else if (error) assert.match(body.error as string, error);
    const now = await metrics();
    assert.equal(viewerLines(now), viewerLines(was), "viewer metrics unchanged");
    assert.equal(beacons(now, result), beacons(was, result) + 1, `counted as ${result}`);
    assert.equal(beacons(now, "accepted"), beacons(was, "accepted"));
    return body.error as string;
  }

  before(async () => {
    origin = await startOrigin({
      keys: [{ key: KEY, stream: "main" }],
      // 2 beacons a second per address, and a burst that the tests before the flood stay within;
      // a long interval, so that no expiry sweep runs between a request and its check.
      env: { PEERCAST_STATS_RATE_PER_MIN: "120", PEERCAST_STATS_BURST: "40", PEERCAST_STATS_INTERVAL_MS: "60000" },
    });
  });

  after(async () => {
    await origin?.stop();
  });

  test("beacons as JSON and as sendBeacon's text/plain are taken: metrics and /api/streams show the viewers", async () => {
    assert.equal((await streamInfo(origin.http, "main"))?.viewers, 0);
    const a = await post(
      JSON.stringify(
        beacon("viewer-aaaa", { httpBytes: 1000, p2pBytes: 3000, peers: 2, startupMs: 1200, latencyMs: 4000, stalls: 1, stallMs: 250, playingMs: 5000 }),
      ),
      "text/plain;charset=UTF-8",
    );
    assert.equal(a.status, 204);
    assert.equal(a.headers.get("access-control-allow-origin"), "*");
    assert.equal(await a.text(), "");
    const b = await post(JSON.stringify(beacon("viewer-bbbb", { httpBytes: 500, p2pBytes: 500, peers: 1, uploadedBytes: 700 })));
    assert.equal(b.status, 204);

    const text = await metrics();
    const main = { stream: "main" };
    assert.equal(sample(text, "peercast_viewer_bytes_total", { ...main, source: "http" }), 1500);
    assert.equal(sample(text, "peercast_viewer_bytes_total", { ...main, source: "p2p" }), 3500);
    assert.equal(sample(text, "peercast_viewer_uploaded_bytes_total", main), 700);
    assert.equal(sample(text, "peercast_viewer_stalls_total", main), 1);
    assert.equal(sample(text, "peercast_viewer_stall_seconds_total", main), 0.25);
    assert.equal(sample(text, "peercast_viewer_playing_seconds_total", main), 5);
    assert.equal(sample(text, "peercast_viewers", main), 2);
    assert.equal(sample(text, "peercast_viewer_peers", main), 3);
    assert.equal(sample(text, "peercast_viewer_peer_share", main), 0.7);
    assert.equal(sample(text, "peercast_viewer_startup_seconds_count", main), 1);
    assert.equal(sample(text, "peercast_viewer_latency_seconds_sum", { ...main, mode: "balanced" }), 4);
    assert.equal(beacons(text, "accepted"), 2);
    assert.equal((await streamInfo(origin.http, "main"))?.viewers, 2);

    // The page-hide beacon takes its viewer out of the count at once.
    assert.equal(
      (await post(JSON.stringify(beacon("viewer-bbbb", { httpBytes: 600, p2pBytes: 500, peers: 1, uploadedBytes: 700, final: true })), "text/plain")).status,
      204,
    );
    assert.equal((await streamInfo(origin.http, "main"))?.viewers, 1);
    assert.equal(sample(await metrics(), "peercast_viewer_bytes_total", { ...main, source: "http" }), 1600);
  });

  test("malformed JSON: 400 and nothing changes", async () => {
    await refused(() => post('{"v":1,"viewerId":'), 400, "invalid", "body is not JSON");
    await refused(() => post(""), 400, "invalid", "body is not JSON");
  });

  test("wrong types and out-of-range values: 400 naming the field, never echoing the value", async () => {
    const huge = "7".repeat(10_000);
    await refused(() => post(JSON.stringify({ ...beacon("viewer-cccc"), httpBytes: huge })), 400, "invalid", "httpBytes: expected a number");
    await refused(() => post(JSON.stringify(beacon("viewer-cccc", { p2pBytes: -1 }))), 400, "invalid", "p2pBytes: must be >= 0");
    await refused(() => post(JSON.stringify(beacon("viewer-cccc", { stalls: 1.5 }))), 400, "invalid", "stalls: expected an integer");
    await refused(
      () => post(JSON.stringify({ ...beacon("viewer-cccc"), p2p: { download: "yes", upload: true } })),
      400,
      "invalid",
      "p2p.download: expected a boolean",
    );
    await refused(() => post(JSON.stringify({ ...beacon("viewer-cccc"), viewerId: huge })), 400, "invalid", "viewerId: expected 8-64 of A-Z a-z 0-9 _ -");
    await refused(() => post("[1,2,3]"), 400, "invalid", "body: expected an object");
  });

  test("a beacon for a stream that is not configured: 400", async () => {
    await refused(
      () => post(JSON.stringify(beacon("viewer-dddd", { stream: "nosuchstream", httpBytes: 10 }))),
      400,
      "unknown_stream",
      "stream: not a configured stream",
    );
  });

  test("content types other than JSON and text/plain: 415", async () => {
    const body = JSON.stringify(beacon("viewer-eeee", { httpBytes: 10 }));
    await refused(() => post(body, "application/x-www-form-urlencoded"), 415, "unsupported_type");
    await refused(() => post(new TextEncoder().encode(body), null), 415, "unsupported_type", "expected application/json or text/plain");
  });

  test("a body over 16 KiB: 413, declared or streamed", async () => {
    const big = JSON.stringify({ ...beacon("viewer-ffff", { httpBytes: 10 }), pad: "x".repeat(20_000) });
    await refused(() => post(big), 413, "too_large");
    const chunked = () =>
      fetch(url(), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(c) {
            for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode(" ".repeat(1024)));
            c.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
    await refused(chunked, 413, "too_large");
  });

  test("per viewer: a second beacon within a second is 429, counters going backwards 400", async () => {
    const id = "viewer-gggg";
    assert.equal((await post(JSON.stringify(beacon(id, { httpBytes: 5000, playingMs: 2000 })))).status, 204);
    await refused(() => post(JSON.stringify(beacon(id, { httpBytes: 6000, playingMs: 2500 }))), 429, "rate_limited");
    await new Promise((r) => setTimeout(r, 1050));
    await refused(
      () => post(JSON.stringify(beacon(id, { httpBytes: 4000, playingMs: 3000 }))),
      400,
      "backwards",
      "httpBytes: lower than this viewer reported before",
    );
  });

  test("a flood from one address gets 429 (forged X-Forwarded-For does not help); only accepted beacons count", async () => {
    const was = await metrics();
    const viewersWas = sample(was, "peercast_viewers", { stream: "main" });
    const n = 100;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        post(JSON.stringify(beacon(`flood-viewer-${i}`, { httpBytes: 1000 })), "application/json", { "x-forwarded-for": `203.0.113.${i}` }).then(async (r) => {
          if (r.status === 429) assert.match(((await r.json()) as { error: string }).error, /too many stats beacons/);
          return r.status;
        }),
      ),
    );
    const ok = results.filter((s) => s === 204).length;
    const limited = results.filter((s) => s === 429).length;
    assert.equal(ok + limited, n, `only 204 and 429: ${results.join(",")}`);
    assert.ok(ok > 0 && ok <= 45, `what was left of the burst (40), and a little refill, got through: ${ok}`);
    assert.ok(limited >= 50, `the rest was refused: ${limited}`);

    const now = await metrics();
    assert.equal(beacons(now, "accepted") - beacons(was, "accepted"), ok);
    assert.equal(beacons(now, "rate_limited") - beacons(was, "rate_limited"), limited);
    const http = (t: string) => sample(t, "peercast_viewer_bytes_total", { stream: "main", source: "http" });
    assert.equal(http(now) - http(was), ok * 1000);
    assert.equal(sample(now, "peercast_viewers", { stream: "main" }) - viewersWas, ok);
    assert.equal((await streamInfo(origin.http, "main"))?.viewers, viewersWas + ok);
  });
});
