import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebSocket } from "ws";
import { parseMessage } from "../src/messages.js";
import { MAX_REPORTED_PAIRS, MAX_REPORTS_PER_REPORTER, MAX_UNREACHABLE_PER_REPORTER, PeerReports, UNREACHABLE_FOR_MS } from "../src/peer-reports.js";
import { PeerSwarm, type EarlyAnswerHook } from "../src/swarm.js";

const id = (c: string) => c.repeat(20);

/**
 * A swarm whose peers all read what they are sent: `join` adds peers, `announce` answers one
 * peer's announce with the ids of the peers it got (`offer` sends 5 offers, as players do).
 */
function testSwarm(infoHash: string, onEarlyAnswer?: EarlyAnswerHook) {
  const swarm = new PeerSwarm(infoHash, () => undefined, onEarlyAnswer);
  const socket = { readyState: 1, bufferedAmount: 0, send: () => undefined } as unknown as WebSocket;
  const join = (...peerIds: string[]) => {
    for (const p of peerIds) swarm.announce({ type: "ws", event: "started", numwant: 0, peer_id: p, info_hash: infoHash, socket });
  };
  const announce = (peerId: string, extra: Record<string, unknown> = {}) => {
    let got: string[] = [];
    swarm.announce(
      { type: "ws", event: "update", numwant: 5, peer_id: peerId, info_hash: infoHash, socket, ...extra },
      (_e, r) => (got = r!.peers.map((p) => p.peerId)),
    );
    return got;
  };
  const offer = (peerId: string) => announce(peerId, { offers: Array(5).fill({ offer_id: "o" }) });
  /** Whom a peer's offers went to, sorted. */
  const sampled = (peerId: string) => offer(peerId).sort();
  return { swarm, join, announce, offer, sampled };
}

test("announces with offers and answers parse; garbage gets a reason", () => {
  const offer = {
    action: "announce",
    info_hash: id("a"),
    peer_id: id("b"),
    numwant: 5,
    left: null,
    offers: [{ offer: { type: "offer", sdp: "v=0" }, offer_id: id("c") }],
  };
  assert.equal(parseMessage(JSON.stringify(offer)).ok, true);
  const answer = { action: "announce", info_hash: id("a"), peer_id: id("b"), answer: { type: "answer", sdp: "v=0" }, offer_id: id("c"), to_peer_id: id("d") };
  assert.equal(parseMessage(JSON.stringify(answer)).ok, true);
  const cases: [string, RegExp][] = [
    ["{not json", /not JSON/],
    ["null", /invalid message/],
    ["[]", /invalid message/],
    [JSON.stringify({ action: "scrape", info_hash: id("a") }), /scrape is not offered/],
    [JSON.stringify({ action: "hack" }), /action/],
    [JSON.stringify({ ...offer, info_hash: "short" }), /info_hash/],
    [JSON.stringify({ ...offer, peer_id: 42 }), /peer_id/],
    [JSON.stringify({ ...offer, offers: [null] }), /offers/],
    [JSON.stringify({ ...offer, offers: [{ offer: { type: "offer", sdp: "x".repeat(20_000) }, offer_id: id("c") }] }), /sdp/],
    [JSON.stringify({ ...answer, to_peer_id: undefined }), /answer needs/],
    [JSON.stringify({ ...offer, numwant: -1 }), /numwant/],
  ];
  for (const [text, reason] of cases) {
    const r = parseMessage(text);
    assert.equal(r.ok, false, text.slice(0, 60));
    assert.match((r as { reason: string }).reason, reason);
  }
});

test("a swarm samples peers without itself, removes in O(1) and expires silent peers", () => {
  const IH = "0a".repeat(20);
  const offered: string[] = [];
  const swarm = new PeerSwarm(IH, (_ih, from, offers) => offered.push(`${from}:${offers.length}`));
  const sent: [number, string][] = [];
  const socket = (n: number) => ({ n, readyState: 1, bufferedAmount: 0, send: (m: string) => sent.push([n, m]) }) as unknown as WebSocket;
  for (let i = 0; i < 1000; i++) swarm.announce({ type: "ws", event: "started", numwant: 0, peer_id: `p${i}`, info_hash: IH, socket: socket(i) });
  assert.equal(swarm.size, 1000);
  let got: string[] = [];
  let slot: number | undefined;
  swarm.announce(
    { type: "ws", event: "update", numwant: 5, peer_id: "p3", info_hash: IH, socket: socket(3), offers: Array(5).fill({ offer_id: "o" }) },
    (_e, r) => {
      got = r!.peers.map((p) => p.peerId);
      slot = r!.slot;
    },
  );
  assert.equal(new Set(got).size, 5);
  assert.ok(!got.includes("p3"));
  assert.deepEqual(offered, ["p3:5"]);
  assert.equal(slot, 3, "the answer tells the announcer its slot");
  // The peers the offers go to hear the swarm's size and their own slots with them (what
  // clients read as an update).
  const heard = (m: string) => JSON.parse(m) as Record<string, unknown>;
  assert.deepEqual(sent.map(([n]) => `p${n}`).sort(), [...got].sort());
  const [n0, m0] = sent[0]!;
  assert.deepEqual(heard(m0), { action: "announce", info_hash: Buffer.from(IH, "hex").toString("latin1"), complete: 0, incomplete: 1000, slot: n0 });
  // Slots stay dense: the last peer moves into a leaver's slot and hears so at once.
  sent.length = 0;
  assert.equal(swarm.remove("p500"), true);
  assert.equal(swarm.find("p500"), undefined);
  assert.equal(swarm.find("p999")?.peerId, "p999");
  assert.deepEqual(
    sent.map(([n, m]) => [n, heard(m).slot, heard(m).incomplete]),
    [[999, 500, 999]],
  );
  // A stop from a socket that does not hold the peer is ignored.
  swarm.announce({ type: "ws", event: "stopped", numwant: 0, peer_id: "p1", info_hash: IH, socket: socket(2) });
  assert.ok(swarm.find("p1"));
  assert.equal(swarm.expire(Date.now() + 1).length, 999);
  assert.equal(swarm.size, 0);
  assert.equal(swarm.incomplete, 0);
});

test("reports parse as their own action; a self-report or a bad id gets a reason", () => {
  const report = { action: "peercast_reject", info_hash: id("a"), peer_id: id("b"), offender: id("c") };
  assert.deepEqual(parseMessage(JSON.stringify(report)), { ok: true, message: report });
  for (const [bad, reason] of [
    [{ ...report, offender: id("b") }, /cannot report itself/],
    [{ ...report, offender: "short" }, /offender/],
    [{ ...report, peer_id: undefined }, /peer_id/],
  ] as const) {
    const r = parseMessage(JSON.stringify(bad));
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, reason);
  }
});

test("a swarm never samples a reported pair together, and bans after two reporter addresses", () => {
  const { swarm, join, sampled } = testSwarm("0b".repeat(20));
  join("a", "b", "c", "bad");
  assert.deepEqual(sampled("a"), ["b", "bad", "c"]);
  assert.equal(swarm.report("a", "bad", "192.0.2.1"), "recorded");
  assert.deepEqual(sampled("a"), ["b", "c"]);
  assert.deepEqual(sampled("bad"), ["b", "c"]);
  assert.equal(swarm.report("a", "bad", "192.0.2.1"), "duplicate");
  assert.equal(swarm.report("b", "bad", "192.0.2.1"), "recorded", "same address: no ban yet");
  assert.equal(swarm.size, 4);
  assert.equal(swarm.report("c", "bad", "198.51.100.1"), "banned");
  assert.equal(swarm.size, 3);
  assert.equal(swarm.find("bad"), undefined);
  assert.deepEqual(sampled("bad"), [], "a banned peer's announce meets nobody");
  assert.equal(swarm.find("bad"), undefined, "and does not bring it back");
  assert.equal(swarm.report("bad", "a", "203.0.113.1"), "reporter_banned");
  // Bounded: a reporter reports a few peers at most.
  for (let i = 0; i < MAX_REPORTS_PER_REPORTER - 1; i++) assert.equal(swarm.report("a", `x${i}`, "192.0.2.1"), "recorded");
  assert.equal(swarm.report("a", "one-too-many", "192.0.2.1"), "reporter_full");
});

test("a swarm's reports are bounded: past the cap new ones are refused and the bans kept", () => {
  const reports = new PeerReports();
  assert.equal(reports.report("r0", "bad", "192.0.2.1"), "recorded");
  assert.equal(reports.report("r1", "bad", "192.0.2.2"), "banned");
  for (let i = 2; reports.report(`r${i}`, `o${i}`, "192.0.2.9") === "recorded"; i++) assert.ok(i < 2 * MAX_REPORTED_PAIRS);
  assert.equal(reports.report("late", "other", "192.0.2.3"), "swarm_full");
  assert.equal(reports.banned("bad"), true);
  assert.equal(reports.avoids("late", "other"), false);
});

test("unreachable reports parse as their own action; a self-report gets a reason", () => {
  const report = { action: "peercast_unreachable", info_hash: id("a"), peer_id: id("b"), other: id("c") };
  assert.deepEqual(parseMessage(JSON.stringify(report)), { ok: true, message: report });
  for (const [bad, reason] of [
    [{ ...report, other: id("b") }, /cannot report itself/],
    [{ ...report, other: undefined }, /other/],
    [{ ...report, action: "constructor" }, /action/],
  ] as const) {
    const r = parseMessage(JSON.stringify(bad));
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, reason);
  }
});

test("an unreachable pair is not sampled together for a while; nobody is banned for it", () => {
  const { swarm, join, sampled } = testSwarm("0c".repeat(20));
  join("a", "b", "sym1", "sym2");
  assert.deepEqual(sampled("sym1"), ["a", "b", "sym2"]);
  const now = Date.now();
  assert.equal(swarm.reports.reportUnreachable("sym1", "sym2", now), "recorded");
  assert.equal(swarm.reports.reportUnreachable("sym2", "sym1", now), "duplicate", "the other side's report is no news");
  assert.deepEqual(sampled("sym1"), ["a", "b"]);
  assert.deepEqual(sampled("sym2"), ["a", "b"]);
  assert.deepEqual(sampled("a"), ["b", "sym1", "sym2"], "others still meet both");
  assert.equal(swarm.reports.bans, 0);
  // Forgotten after a while (networks change), and then it may be reported again.
  const later = now + UNREACHABLE_FOR_MS + 1;
  assert.equal(swarm.reports.avoids("sym1", "sym2", later), false);
  assert.equal(swarm.reports.reportUnreachable("sym1", "sym2", later), "recorded");
  // Bounded per reporter.
  const reports = new PeerReports();
  for (let i = 0; i < MAX_UNREACHABLE_PER_REPORTER; i++) assert.equal(reports.reportUnreachable("r", `o${i}`), "recorded");
  assert.equal(reports.reportUnreachable("r", "one-too-many"), "reporter_full");
  assert.equal(reports.avoids("r", "one-too-many"), false);
});

test("a small swarm's peers are offered at random: every pair gets introduced", () => {
  const { join, offer } = testSwarm("0d".repeat(20));
  const ids = Array.from({ length: 10 }, (_, i) => `p${i}`);
  join(...ids);
  const met = new Set<string>();
  // Each peer announces a few times with 5 offers, as players do once an interval.
  for (let round = 0; round < 12; round++) {
    for (const p of ids) {
      const to = offer(p);
      assert.equal(to.length, 5);
      for (const q of to) met.add([p, q].sort().join("-"));
    }
  }
  // 12 rounds of 5 random offers from each of 10 peers: a pair is missed with chance (4/9)^24.
  assert.equal(met.size, 45);
});

test("a peer's first announces are flagged early (three of them); relayed WebRTC answers do not count", () => {
  let early = 0;
  const { announce } = testSwarm("0e".repeat(20), (e) => (early += e ? 1 : 0));
  const flagged = (extra: Record<string, unknown>) => {
    const before = early;
    announce("p", extra);
    return early > before;
  };
  assert.deepEqual(
    [flagged({ event: "started" }), flagged({ answer: { type: "answer" } }), flagged({}), flagged({}), flagged({}), flagged({})],
    [true, false, true, true, false, false],
  );
});
