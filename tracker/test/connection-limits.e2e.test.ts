// Connection admission on the real tracker: per-address limits keyed as the origin keys them
// (behind a trusted proxy, the last X-Forwarded-For entry if it is an IP address; IPv6 by /64),
// and a cap on open connections in all.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { waitFor } from "@peercast/origin/testing";
import { RawClient } from "./support/raw-client.js";
import { startEmptyOrigin, type EmptyOrigin } from "./support/empty-origin.js";
import { metric, startTracker, type TrackerHandle } from "./support/tracker-process.js";

const refused = (tracker: TrackerHandle, reason: string) => metric(tracker.metrics, "peercast_tracker_refused_total", `reason="${reason}"`);
const connections = async (tracker: TrackerHandle) => ((await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { connections: number }).connections;
/** Opens a connection as if through the proxy with this X-Forwarded-For; the error's message on a refusal. */
const openVia = (tracker: TrackerHandle, clients: RawClient[], forwardedFor: string) =>
  RawClient.open(tracker.url, { "X-Forwarded-For": forwardedFor }).then(
    (c) => (clients.push(c), "open"),
    (err: Error) => err.message,
  );

describe("per-address keys behind a trusted proxy", () => {
  let origin: EmptyOrigin;
  let tracker: TrackerHandle;
  const clients: RawClient[] = [];

  after(async () => {
    for (const c of clients) c.close();
    await tracker?.stop();
    await origin?.stop();
  });

  test("two addresses of one IPv6 /64 share one bucket; the next /64 has its own", async () => {
    origin = await startEmptyOrigin();
    // Two new connections per key at once, then one a minute: the test never waits for a token.
    tracker = await startTracker(origin.http, {
      PEERCAST_TRACKER_TRUST_PROXY: "1",
      PEERCAST_TRACKER_NEW_CONNECTIONS_PER_MIN: "1",
      PEERCAST_TRACKER_NEW_CONNECTIONS_BURST: "2",
    });
    assert.equal(await openVia(tracker, clients, "2001:db8:5:6::1"), "open");
    assert.equal(await openVia(tracker, clients, "2001:db8:5:6::2"), "open");
    assert.match(await openVia(tracker, clients, "198.51.100.9, 2001:db8:5:6:ffff:ffff:ffff:3"), /429/, "a third address of that /64");
    assert.equal(await openVia(tracker, clients, "2001:db8:5:7::1"), "open", "another /64");
    assert.equal(await refused(tracker, "connections_rate"), 1);
  });

  test("an X-Forwarded-For entry that is no IP address is not a key: the socket's address is", async () => {
    // Each made-up value would otherwise be a fresh bucket; all of them share 127.0.0.1's.
    assert.equal(await openVia(tracker, clients, "spoof-1"), "open");
    assert.equal(await openVia(tracker, clients, "2001:db8:5:8::1, spoof-2"), "open");
    assert.match(await openVia(tracker, clients, "spoof-3"), /429/);
    assert.equal(await refused(tracker, "connections_rate"), 2);
    assert.equal(await connections(tracker), 5);
  });
});

describe("PEERCAST_TRACKER_MAX_CONNECTIONS", () => {
  let origin: EmptyOrigin;
  let tracker: TrackerHandle;
  const clients: RawClient[] = [];

  after(async () => {
    for (const c of clients) c.close();
    await tracker?.stop();
    await origin?.stop();
  });

  test("the connection past the cap is refused with 429 (too_many_connections); a closed one makes room", async () => {
    origin = await startEmptyOrigin();
    tracker = await startTracker(origin.http, { PEERCAST_TRACKER_MAX_CONNECTIONS: "5" });
    for (let i = 0; i < 5; i++) clients.push(await RawClient.open(tracker.url));
    await assert.rejects(RawClient.open(tracker.url), /429/);
    assert.equal(await refused(tracker, "too_many_connections"), 1);
    assert.equal(await refused(tracker, "connections_per_ip"), 0, "refused for the total, not per address");
    assert.equal(await connections(tracker), 5);
    clients.shift()!.close();
    await waitFor(async () => (await connections(tracker)) === 4, 5000);
    clients.push(await RawClient.open(tracker.url));
    assert.equal(await connections(tracker), 5);
  });
});
