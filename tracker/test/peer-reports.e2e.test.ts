// Reports of peers that sent bytes failing the hash check (`peercast_reject`), on the real
// tracker with a live stream: only a connection's own peer may report, a reported pair is not
// introduced again, and reports from two client addresses (X-Forwarded-For behind a trusted
// proxy) take the offender out of its swarm.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startOrigin, waitLive, type OriginHandle } from "@peercast/origin/testing";
import { accepted, announce, id20, offers, RawClient } from "./support/raw-client.js";
import { liveInfoHashes, metric, startTracker, type TrackerHandle } from "./support/tracker-process.js";

let origin: OriginHandle;
let tracker: TrackerHandle;
let swarm: string;
const clients: RawClient[] = [];

before(async () => {
  origin = await startOrigin({ env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "320x180", PEERCAST_LADDER: "180p:320x180:200" } });
  await waitLive(origin.http, "main");
  [swarm] = (await liveInfoHashes(origin.http, "main")) as [string];
  tracker = await startTracker(origin.http, {
    PEERCAST_TRACKER_TRUST_PROXY: "1",
    // Offers whenever this test sends them (players send them once an interval).
    PEERCAST_TRACKER_MIN_OFFERS_GAP_MS: "0",
  });
});

after(async () => {
  for (const c of clients) c.close();
  await tracker?.stop();
  await origin?.stop();
});

/** A peer announced in the swarm from a client at `address` (as the proxy says). */
async function peer(name: string, address: string): Promise<RawClient & { id: string }> {
  const c = Object.assign(await RawClient.open(tracker.url, { "X-Forwarded-For": address }), { id: id20(name) });
  clients.push(c);
  c.send(announce(swarm, c.id, { event: "started" }));
  await c.next(accepted);
  return c;
}

const reject = (reporter: { id: string }, offender: { id: string }) => ({
  action: "peercast_reject",
  info_hash: swarm,
  peer_id: reporter.id,
  offender: offender.id,
});
/** Who got an offer from `from` among these clients (offers carry the offerer's peer id). */
const offeredBy = (from: { id: string }, to: (RawClient & { id: string })[]) =>
  to.filter((c) => c.received.some((m) => m.offer !== undefined && m.peer_id === from.id)).map((c) => c.id.replace(/x+$/, ""));
const settle = () => new Promise((r) => setTimeout(r, 300));
const reports = () => metric(tracker.metrics, "peercast_tracker_peer_reports_total");
const banned = () => metric(tracker.metrics, "peercast_tracker_peers_banned_total");
const peers = async () => ((await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { peers: number }).peers;

test("reports: only the reporter's own connection, no more introductions of the pair, a ban after two addresses", async () => {
  const r1 = await peer("r1-", "192.0.2.1");
  const r1b = await peer("r1b-", "192.0.2.1"); // another viewer behind the same address
  const r2 = await peer("r2-", "198.51.100.2");
  const honest = await peer("honest-", "203.0.113.3");
  const offender = await peer("offender-", "203.0.113.66");
  const everyone = [r1, r1b, r2, honest, offender];

  // The offender's first offers reach everyone (so r1 holds one it could answer).
  offender.send(announce(swarm, offender.id, { offers: offers(5, "o1") }));
  await offender.next(accepted);
  await settle();
  assert.deepEqual(offeredBy(offender, everyone).sort(), ["honest-", "r1-", "r1b-", "r2-"]);
  const pending = r1.received.find((m) => m.offer !== undefined && m.peer_id === offender.id)!;

  // Someone else's connection may not report in r1's name.
  assert.match(await honest.failure(reject(r1, offender)), /has not announced that peer/);
  assert.equal(await reports(), 0);
  assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="not_owner"')) >= 1);

  // r1 reports the offender: the two are never introduced again, either way.
  r1.send(reject(r1, offender));
  await settle();
  assert.equal(await reports(), 1);
  assert.equal(r1.received.filter((m) => "failure reason" in m).length, 0, "an accepted report is not answered");
  for (const c of everyone) c.received.length = 0;
  r1.send(announce(swarm, r1.id, { offers: offers(5, "r1") }));
  await r1.next(accepted);
  offender.send(announce(swarm, offender.id, { offers: offers(5, "o2") }));
  await offender.next(accepted);
  await settle();
  assert.deepEqual(offeredBy(r1, everyone).sort(), ["honest-", "r1b-", "r2-"]);
  assert.deepEqual(offeredBy(offender, everyone).sort(), ["honest-", "r1b-", "r2-"]);
  // Nor does an answer to an offer relayed before the report go through.
  const answer = { answer: { type: "answer", sdp: "v=0" }, offer_id: pending.offer_id, to_peer_id: offender.id };
  assert.match(await r1.failure(announce(swarm, r1.id, answer)), /reported the other/);

  // A second viewer at r1's address is the same reporter as far as a ban goes; a repeated report is no new one.
  r1b.send(reject(r1b, offender));
  r1.send(reject(r1, offender));
  await settle();
  assert.equal(await reports(), 2);
  assert.equal(await banned(), 0);

  // A second address: the offender is out of the swarm, its offers go nowhere, nobody's go to it.
  const before = await peers();
  r2.send(reject(r2, offender));
  await settle();
  assert.equal(await banned(), 1);
  assert.equal(await reports(), 3);
  assert.equal(await peers(), before - 1);
  for (const c of everyone) c.received.length = 0;
  offender.send(announce(swarm, offender.id, { offers: offers(5, "o3") }));
  const answered = await offender.next(accepted);
  assert.equal(answered.slot, undefined, "a banned peer holds no slot");
  honest.send(announce(swarm, honest.id, { offers: offers(5, "h") }));
  await honest.next(accepted);
  await settle();
  assert.deepEqual(offeredBy(honest, everyone).sort(), ["r1-", "r1b-", "r2-"]);
  assert.deepEqual(offeredBy(offender, everyone), []);
  assert.equal(await peers(), before - 1, "its announces do not bring it back");
});

test("unreachable reports: only the reporter's own connection; the pair meets no more, nobody is banned", async () => {
  // A swarm of these three only (an announce's five offers then reach everyone else).
  for (const earlier of clients.splice(0)) earlier.close();
  await settle();
  const a = await peer("ua-", "192.0.2.11");
  const b = await peer("ub-", "198.51.100.12");
  const c = await peer("uc-", "203.0.113.13");
  const all = [a, b, c];
  const unreachable = (reporter: { id: string }, other: { id: string }) => ({
    action: "peercast_unreachable",
    info_hash: swarm,
    peer_id: reporter.id,
    other: other.id,
  });
  const recorded = () => metric(tracker.metrics, "peercast_tracker_unreachable_reports_total");
  assert.match(await c.failure(unreachable(a, b)), /has not announced that peer/);
  a.send(unreachable(a, b));
  b.send(unreachable(b, a)); // the other side's report of the same pair
  await settle();
  assert.equal(await recorded(), 1);
  assert.equal([a, b].flatMap((x) => x.received).filter((m) => "failure reason" in m).length, 0, "accepted reports are not answered");
  for (const x of all) x.received.length = 0;
  a.send(announce(swarm, a.id, { offers: offers(5, "ua") }));
  await a.next(accepted);
  c.send(announce(swarm, c.id, { offers: offers(5, "uc") }));
  await c.next(accepted);
  await settle();
  assert.deepEqual(offeredBy(a, all), ["uc-"], "a's offers no longer go to b");
  assert.deepEqual(offeredBy(c, all).sort(), ["ua-", "ub-"], "others still meet both");
  assert.equal(await banned(), 1, "nobody new is banned");
});

test("a peer's first three answers tell it to announce again within about 10 s, later ones the configured interval (60 s)", async () => {
  const c = Object.assign(await RawClient.open(tracker.url, { "X-Forwarded-For": "192.0.2.99" }), { id: id20("early-") });
  clients.push(c);
  const intervals: number[] = [];
  for (let i = 0; i < 5; i++) {
    c.send(announce(swarm, c.id, i === 0 ? { event: "started" } : {}));
    intervals.push(Number((await c.next(accepted)).interval));
  }
  assert.ok(
    intervals.slice(0, 3).every((s) => s >= 8 && s <= 12),
    `intervals ${intervals}`,
  );
  assert.ok(
    intervals.slice(3).every((s) => s >= 48 && s <= 72),
    `intervals ${intervals}`,
  );
});
