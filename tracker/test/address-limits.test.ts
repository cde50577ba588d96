import assert from "node:assert/strict";
import { test } from "node:test";
import { rateKey } from "@peercast/origin/service";
import { AddressLimits, type AddressLimitsOptions } from "../src/address-limits.js";

const clock = () => {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

const limitsOf = (o: Partial<AddressLimitsOptions> & { now: () => number }) =>
  new AddressLimits({ maxTotal: 100_000, maxOpen: 4096, newPerMin: 600, newBurst: 5, ...o });

test("new connections per address: the burst at once, then the rate; other addresses unaffected", () => {
  const c = clock();
  const limits = limitsOf({ now: c.now });
  for (let i = 0; i < 5; i++) assert.equal(limits.admit("198.51.100.7"), "ok");
  assert.equal(limits.admit("198.51.100.7"), "connections_rate");
  assert.equal(limits.admit("203.0.113.9"), "ok", "a bucket per address");
  c.advance(100); // 600 a minute: one token every 100 ms
  assert.equal(limits.admit("198.51.100.7"), "ok");
  assert.equal(limits.admit("198.51.100.7"), "connections_rate");
  // A steady pace at the rate is never refused, however long it goes on.
  for (let i = 0; i < 1000; i++) {
    c.advance(100);
    assert.equal(limits.admit("198.51.100.7"), "ok", `connection ${i}`);
  }
});

test("keyed by rateKey, the addresses of one IPv6 /64 share one bucket and one standing cap", () => {
  const c = clock();
  const limits = limitsOf({ maxOpen: 3, newBurst: 2, now: c.now });
  const host = (suffix: string) => rateKey(`2001:db8:aa:bb:${suffix}`);
  assert.equal(limits.admit(host("1::1")), "ok");
  limits.opened(host("1::1"));
  assert.equal(limits.admit(host("ffff:ffff:ffff:fffe")), "ok");
  limits.opened(host("ffff:ffff:ffff:fffe"));
  assert.equal(limits.admit(host("2::2")), "connections_rate", "a fresh address of the /64 gets no fresh bucket");
  assert.equal(limits.admit(rateKey("2001:db8:aa:bc::1")), "ok", "the next /64 is another client");
  c.advance(60_000);
  assert.equal(limits.admit(host("3::3")), "ok");
  limits.opened(host("3::3"));
  assert.equal(limits.openOf(rateKey("2001:db8:aa:bb::")), 3);
  assert.equal(limits.admit(host("4::4")), "connections_per_ip", "nor a fresh standing cap");
  // IPv4-mapped IPv6 (a dual-stack socket) is its IPv4 address.
  assert.equal(rateKey("::ffff:198.51.100.7"), "198.51.100.7");
});

test("the standing cap counts open connections, and a closed one frees its place", () => {
  const c = clock();
  const limits = limitsOf({ maxOpen: 3, newPerMin: 60_000, newBurst: 100, now: c.now });
  for (let i = 0; i < 3; i++) {
    assert.equal(limits.admit("198.51.100.7"), "ok");
    limits.opened("198.51.100.7");
  }
  assert.equal(limits.admit("198.51.100.7"), "connections_per_ip");
  assert.equal(limits.openOf("198.51.100.7"), 3);
  limits.closed("198.51.100.7");
  assert.equal(limits.admit("198.51.100.7"), "ok");
});

test("the total cap counts every address's open connections, and takes no token", () => {
  const c = clock();
  const limits = limitsOf({ maxTotal: 3, newBurst: 10, now: c.now });
  for (const a of ["198.51.100.1", "198.51.100.2", "203.0.113.3"]) {
    assert.equal(limits.admit(a), "ok");
    limits.opened(a);
  }
  assert.equal(limits.openTotal, 3);
  for (let i = 0; i < 20; i++) assert.equal(limits.admit("203.0.113.4"), "too_many_connections");
  limits.closed("198.51.100.2");
  limits.closed("198.51.100.2"); // a second close of the same place frees nothing more
  assert.equal(limits.openTotal, 2);
  assert.equal(limits.admit("203.0.113.4"), "ok", "its bucket is untouched by the refusals");
  limits.opened("203.0.113.4");
  assert.equal(limits.admit("198.51.100.2"), "too_many_connections");
});

test("a refusal at the cap takes no token", () => {
  const c = clock();
  const limits = limitsOf({ maxOpen: 1, newPerMin: 1, newBurst: 2, now: c.now });
  assert.equal(limits.admit("198.51.100.7"), "ok");
  limits.opened("198.51.100.7");
  for (let i = 0; i < 10; i++) assert.equal(limits.admit("198.51.100.7"), "connections_per_ip");
  limits.closed("198.51.100.7");
  assert.equal(limits.admit("198.51.100.7"), "ok", "the second token is still there");
});

test("bounded: addresses with open connections, and buckets until they have refilled (or at most maxBuckets)", () => {
  const c = clock();
  const limits = limitsOf({ maxOpen: 10, maxBuckets: 500, now: c.now });
  for (let i = 0; i < 1000; i++) limits.admit(`10.0.${i >> 8}.${i & 255}`);
  assert.deepEqual(limits.size, { addresses: 0, buckets: 500 }, "the oldest buckets made room");
  limits.admit("198.51.100.7");
  limits.opened("198.51.100.7");
  limits.sweep();
  assert.deepEqual(limits.size, { addresses: 1, buckets: 500 }, "every bucket is one token short");
  c.advance(100);
  limits.sweep();
  assert.deepEqual(limits.size, { addresses: 1, buckets: 0 }, "refilled: forgotten");
  limits.closed("198.51.100.7");
  assert.deepEqual(limits.size, { addresses: 0, buckets: 0 });
});
