// The real tracker against a real origin with a live stream, spoken to by real clients.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import Client from "bittorrent-tracker";
import { publish, startOrigin, waitFor, waitLive, type OriginHandle, type Publisher } from "@peercast/origin/testing";
import { accepted, announce, id20, offers, RawClient } from "./support/raw-client.js";
import { liveInfoHashes, metric, startTracker, type TrackerHandle } from "./support/tracker-process.js";
import { LOOPBACK_RTC_CONFIG } from "./support/node-webrtc.js";

const KEY = "tracker-test-key-1";

describe("the tracker with a live stream", () => {
  let origin: OriginHandle;
  let publisher: Publisher;
  let tracker: TrackerHandle;
  let swarms: string[];
  const clients: RawClient[] = [];
  const open = async () => {
    const c = await RawClient.open(tracker.url);
    clients.push(c);
    return c;
  };
  // For a failure's message: it must not throw, or the failure it describes would never be raised.
  const refusals = () =>
    fetch(`${tracker.metrics}/metrics`)
      .then(
        async (res) =>
          (await res.text())
            .split("\n")
            .filter((l) => l.startsWith("peercast_tracker_refused_total"))
            .join(", ") || "nothing refused",
      )
      .catch((err: Error) => `metrics unreadable: ${err.message}`);
  const stats = async () => (await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { peers: number; connections: number };

  before(async () => {
    origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }], env: { PEERCAST_GRACE_SEC: "1", PEERCAST_ENDED_RETAIN_SEC: "30" } });
    publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY, size: "426x240" });
    await waitLive(origin.http, "main");
    swarms = await liveInfoHashes(origin.http, "main");
    tracker = await startTracker(origin.http, {
      PEERCAST_TRACKER_SWARMS_PER_CONNECTION: "1",
      PEERCAST_TRACKER_OFFERS_PER_ANNOUNCE: "5",
      PEERCAST_TRACKER_MESSAGES_PER_SEC: "5",
      PEERCAST_TRACKER_MESSAGE_BURST: "10",
      PEERCAST_TRACKER_CONNECTIONS_PER_IP: "30",
      PEERCAST_TRACKER_MAX_MESSAGE_BYTES: "16384",
      PEERCAST_TRACKER_IDLE_TIMEOUT_MS: "2000",
      // Real clients gather ICE candidates for their offers before each announce (up to 5 s on
      // a busy CI machine): with 2 s intervals they expired between announces, and their
      // answers were refused as not theirs.
      PEERCAST_TRACKER_ANNOUNCE_INTERVAL_SEC: "5",
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await tracker?.stop();
    await publisher?.stop();
    await origin?.stop();
  });

  test("real bittorrent-tracker clients meet in a live swarm over WebRTC", async () => {
    const make = (name: string) =>
      new Client({
        infoHash: Buffer.from(swarms[0]!, "latin1"),
        peerId: Buffer.from(id20(name), "latin1"),
        // One URL each: the library pools sockets per URL, and two peers of one swarm
        // may not share a socket (as two browsers never do).
        announce: [`${tracker.url}/?client=${name}`],
        port: 6881,
        rtcConfig: LOOPBACK_RTC_CONFIG,
      });
    const a = make("alice");
    const b = make("bob");
    const connected = (c: InstanceType<typeof Client>) =>
      new Promise<void>((resolve) => c.on("peer", (peer: { once(e: string, f: () => void): void }) => peer.once("connect", resolve)));
    const both = Promise.all([connected(a), connected(b)]);
    // What alice's client reports, in order: the swarm's size and her slot (updates), and bob's
    // offer (a peer).
    const aliceHeard: string[] = [];
    a.on("update", (u: { complete: number; incomplete: number; slot?: number }) => aliceHeard.push(`size ${u.complete + u.incomplete}, slot ${u.slot}`));
    a.on("peer", () => aliceHeard.push("peer"));
    const heard: string[] = [];
    for (const [name, c] of [
      ["alice", a],
      ["bob", b],
    ] as const) {
      c.on("warning", (e: Error) => heard.push(`${name} warning: ${e.message}`));
      c.on("error", (e: Error) => heard.push(`${name} error: ${e.message}`));
    }
    try {
      a.start();
      // Offers are sent once ICE gathering ends (up to simple-peer's 5 s timeout).
      await waitFor(async () => (await stats()).peers >= 1, 15_000);
      b.start();
      // b's offers reach a, a's answer goes back through the tracker: a data channel opens.
      await Promise.race([
        both,
        new Promise((_, reject) =>
          setTimeout(() => void refusals().then((r) => reject(new Error(`no WebRTC connection (${heard.join("; ") || "no warning"}; tracker: ${r})`))), 30_000),
        ),
      ]);
    } finally {
      a.destroy();
      b.destroy();
    }
    assert.ok((await metric(tracker.metrics, "peercast_tracker_relayed_total", 'kind="answer"')) >= 1);
    // Bob's offer came with the swarm's new size: alice knew of bob before her next announce.
    const offer = aliceHeard.indexOf("peer");
    assert.deepEqual([aliceHeard[0], aliceHeard[offer - 1]], ["size 1, slot 0", "size 2, slot 0"], `alice heard ${aliceHeard.join("; ")}`);
  });

  test("an announce for a swarm that is not live is refused with a reason", async () => {
    const c = await open();
    c.send(announce(id20("not-live"), id20("p1")));
    const refused = await c.next((m) => "warning message" in m);
    assert.match(String(refused["warning message"]), /not live/);
    // An ordinary answer, with the interval the client re-arms its timer from (5 s ± 20 %).
    assert.ok([4, 5, 6].includes(Number(refused.interval)), `interval ${String(refused.interval)}`);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="not_live"')) >= 1);
  });

  test("each answer tells its own interval, spread around the configured one", async () => {
    const intervals: number[] = [];
    for (const name of ["spread-a", "spread-b"]) {
      const c = await open();
      for (let i = 0; i < 8; i++) {
        c.send(announce(swarms[0]!, id20(name)));
        intervals.push(Number((await c.next(accepted)).interval));
      }
    }
    assert.ok(
      intervals.every((s) => s >= 4 && s <= 6),
      `intervals ${intervals}`,
    );
    // A crowd that joined together must not announce together again: 16 equal answers would
    // happen by chance once in about 60 000 runs.
    assert.ok(new Set(intervals).size > 1, `intervals ${intervals}`);
  });

  test("a socket may act only as the peer it announced", async () => {
    const a = await open();
    const b = await open();
    a.send(announce(swarms[0]!, id20("owner"), { event: "started" }));
    await a.next(accepted);
    assert.match(await b.failure(announce(swarms[0]!, id20("owner"), { event: "stopped" })), /not announced that peer/);
    assert.match(await b.failure(announce(swarms[0]!, id20("owner"))), /peer id in use/);
    assert.match(await a.failure(announce(swarms[0]!, id20("second-id"))), /one peer per swarm/);
    const answer = { answer: { type: "answer", sdp: "v=0" }, offer_id: id20("never"), to_peer_id: id20("owner") };
    b.send(announce(swarms[0]!, id20("b-peer")));
    await b.next(accepted);
    assert.match(await b.failure(announce(swarms[0]!, id20("b-peer"), answer)), /never received/);
    const before = (await stats()).peers;
    a.close();
    await waitFor(async () => (await stats()).peers === before - 1, 5000);
  });

  test("offers are relayed, and only a real answer goes back", async () => {
    // The other rendition's swarm: nobody else there, so b's one offer can only go to a.
    const a = await open();
    const b = await open();
    a.send(announce(swarms[1]!, id20("relay-a")));
    await a.next(accepted);
    const sizes = a.received.length;
    b.send(announce(swarms[1]!, id20("relay-b"), { offers: offers(1, "relay") }));
    const offer = await a.next((m) => m.offer !== undefined && m.peer_id === id20("relay-b"));
    // With the offer, a hears the swarm's size now (its own answer was from when it was alone)
    // and its slot: an answer with no offer and no peer id, before the offer, carrying no interval.
    const size = a.received.slice(sizes).find((m) => m.complete !== undefined);
    assert.deepEqual(size, { action: "announce", info_hash: swarms[1], complete: 0, incomplete: 2, slot: 0 });
    assert.ok(a.received.indexOf(size) < a.received.indexOf(offer));
    a.send(announce(swarms[1]!, id20("relay-a"), { answer: { type: "answer", sdp: "v=0" }, offer_id: offer.offer_id, to_peer_id: id20("relay-b") }));
    const answer = await b.next((m) => m.answer !== undefined);
    assert.equal(answer.peer_id, id20("relay-a"));
    // Offers again right away: still answered, but relayed to nobody.
    b.send(announce(swarms[1]!, id20("relay-b"), { offers: offers(1, "again") }));
    await b.next(accepted);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="offers_too_often"')) >= 1);
    // The same answer twice: the offer was used up.
    assert.match(
      await a.failure(announce(swarms[1]!, id20("relay-a"), { answer: { type: "answer", sdp: "v=0" }, offer_id: offer.offer_id, to_peer_id: id20("relay-b") })),
      /never received/,
    );
  });

  test("each limit gives its refusal and bumps its metric", async () => {
    const c = await open();
    assert.match(await c.failure(announce(swarms[0]!, id20("lim"), { offers: offers(6) })), /too many offers/);
    c.send(announce(swarms[0]!, id20("lim")));
    await c.next(accepted);
    assert.match(await c.failure(announce(swarms[1]!, id20("lim2"))), /too many swarms/);
    for (const reason of ["offers_per_announce", "swarms_per_connection"]) {
      assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", `reason="${reason}"`)) >= 1, reason);
    }

    const flood = await open();
    for (let i = 0; i < 40; i++) flood.send(announce(id20("x"), id20("y")));
    await waitFor(() => flood.closed?.code === 1008, 5000);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="rate"')) >= 1);

    const big = await open();
    big.send("x".repeat(20_000));
    await waitFor(() => big.closed?.code === 1009, 5000);

    const bin = await open();
    bin.ws.send(Buffer.from([1, 2, 3]));
    await waitFor(() => bin.closed?.code === 1003, 5000);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="binary"')) >= 1);
  });

  test("a player back on a new socket takes its peer id from its silent old socket", async () => {
    const old = await open();
    old.send(announce(swarms[1]!, id20("returning")));
    await old.next(accepted);
    const fresh = await open();
    assert.match(await fresh.failure(announce(swarms[1]!, id20("returning"))), /peer id in use/);
    await new Promise((r) => setTimeout(r, 6200)); // the old socket says nothing for the longest interval
    fresh.send(announce(swarms[1]!, id20("returning")));
    await fresh.next(accepted);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="evicted_silent_holder"')) >= 1);
  });

  test("connections per IP are capped with 429", async () => {
    const extra: RawClient[] = [];
    const open0 = (await stats()).connections;
    for (let i = open0; i < 30; i++) extra.push(await open());
    await assert.rejects(RawClient.open(tracker.url), /429/);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="connections_per_ip"')) >= 1);
    for (const c of extra) c.close();
    await waitFor(async () => (await stats()).connections <= open0, 5000);
  });

  test("a dead socket (no pong) is closed, and a peer that stops announcing expires", async () => {
    // A raw TCP upgrade that then never answers pings.
    const port = Number(new URL(tracker.url).port);
    const dead = net.connect(port, "127.0.0.1", () =>
      dead.write(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    dead.on("error", () => undefined);
    dead.on("data", () => undefined); // read, never answer
    const closed = new Promise((resolve) => dead.on("close", resolve));
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error("dead socket kept open")), 8000))]);
    assert.ok((await metric(tracker.metrics, "peercast_tracker_refused_total", 'reason="idle"')) >= 1);

    const quiet = await open();
    quiet.send(announce(swarms[0]!, id20("quiet")));
    await quiet.next(accepted);
    assert.ok((await stats()).peers >= 1);
    // Nobody here announces again: every peer expires after two of the longest intervals (12 s),
    // found by a sweep every 5 s.
    await waitFor(async () => (await stats()).peers === 0, 20_000);
    assert.ok(!quiet.closed, "the connection stays; only its silent peer expired");
  });

  test("garbage gets a failure reason or a close, and the tracker carries on", async () => {
    const c = await open();
    for (const g of [
      "{",
      "null",
      "42",
      '"str"',
      "[]",
      '{"action":"announce"}',
      '{"action":"announce","info_hash":null,"peer_id":null}',
      '{"action":"nuke"}',
      '{"action":"scrape"}',
    ]) {
      c.send(g);
      await c.next((m) => "failure reason" in m);
    }
    const honest = await open();
    honest.send(announce(swarms[0]!, id20("honest")));
    await honest.next(accepted);
    assert.equal(tracker.proc.exitCode, null);
  });

  test("when the session ends its swarms are dropped", async () => {
    const c = await open();
    c.send(announce(swarms[0]!, id20("late")));
    await c.next(accepted);
    await publisher.stop();
    await waitFor(async () => ((await (await fetch(`${tracker.metrics}/stats.json`)).json()) as { liveSwarms: number }).liveSwarms === 0, 15_000);
    assert.equal((await stats()).peers, 0);
    assert.match(await c.failure(announce(swarms[0]!, id20("late"))), /not live/);
  });
});
