// The emulated network's logic without namespaces: `--net` values, which viewer gets which link,
// and the checks that fail a probe that is off its profile.
import assert from "node:assert/strict";
import test from "node:test";
import { checkProbe, expectPath, type Endpoint, type ProbeResult } from "../src/net/probe.js";
import { memberIndex } from "../src/net/audience-network.js";
import { ACCESS_PROFILES, MIX_SHARES, parseNetProfiles, viewerAccess, type AccessProfileName } from "../src/net/profiles.js";

test("--net: a list of profiles, unknown names named", () => {
  assert.deepEqual(parseNetProfiles("lan,cable,mix-nat"), ["lan", "cable", "mix-nat"]);
  assert.deepEqual(parseNetProfiles(" fiber , fiber,dsl"), ["fiber", "dsl"]);
  assert.throws(() => parseNetProfiles("lan,cabel"), /--net: "cabel" is not one of lan, fiber, cable, dsl, mobile, mix, mix-nat/);
  assert.throws(() => parseNetProfiles(" , "), /--net: empty/);
});

test("profiles: lan is no emulation, single profiles apply to everyone without a NAT", () => {
  assert.equal(viewerAccess("lan", 3, 1), null);
  assert.deepEqual(viewerAccess("mobile", 7, 1), { profile: ACCESS_PROFILES.mobile, nat: "none" });
  assert.deepEqual(ACCESS_PROFILES.dsl, { name: "dsl", downMbps: 16, upMbps: 1, delayMs: 25, jitterMs: 0, lossPct: 0 });
  assert.throws(() => viewerAccess("cable", -1, 1), /non-negative integer/);
});

test("mix: exact shares in every block of 10 viewers, the same for the same seed, another order for another", () => {
  const names = (seed: number, net: "mix" | "mix-nat" = "mix") => Array.from({ length: 30 }, (_, i) => viewerAccess(net, i, seed)!.profile.name);
  const a = names(7);
  for (let block = 0; block < 3; block++) {
    const counts = new Map<string, number>();
    for (const n of a.slice(block * 10, block * 10 + 10)) counts.set(n, (counts.get(n) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), Object.fromEntries(MIX_SHARES.filter(([, n]) => n > 0)));
  }
  assert.deepEqual(names(7), a);
  assert.notDeepEqual(names(8), a);
  // mix-nat: the same links as mix, every viewer behind a NAT, one in each block of 4 symmetric.
  assert.deepEqual(names(7, "mix-nat"), a);
  const nats = Array.from({ length: 40 }, (_, i) => viewerAccess("mix-nat", i, 7)!.nat);
  assert.ok(nats.every((n) => n === "cone" || n === "symmetric"));
  for (let block = 0; block < 10; block++) assert.equal(nats.slice(block * 4, block * 4 + 4).filter((n) => n === "symmetric").length, 1);
  assert.ok(Array.from({ length: 40 }, (_, i) => viewerAccess("mix", i, 7)!.nat).every((n) => n === "none"));
  // An audience of Chromium viewers and light peers is one block: 2 + 8 hold the exact shares.
  for (const viewers of [0, 2, 5]) {
    const members = [
      ...Array.from({ length: viewers }, (_, k) => memberIndex("chromium", k, viewers)),
      ...Array.from({ length: 10 - viewers }, (_, k) => memberIndex("light", k, viewers)),
    ];
    const counts = new Map<string, number>();
    for (const i of members) counts.set(viewerAccess("mix", i, 1)!.profile.name, (counts.get(viewerAccess("mix", i, 1)!.profile.name) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), Object.fromEntries(MIX_SHARES.filter(([, n]) => n > 0)), `${viewers} Chromium viewers`);
  }
  assert.ok(memberIndex("probe", 0, 2) >= 100, "probes apart from any audience");
});

const viewer = (name: AccessProfileName, publicAddress: string): Endpoint => ({
  netns: "x",
  address: publicAddress,
  publicAddress,
  profile: ACCESS_PROFILES[name],
  nat: "none",
});
const server: Endpoint = { netns: null, address: "198.51.100.1", publicAddress: "198.51.100.1", profile: null, nat: "none" };

test("expected paths: delay on both links of each viewer, the slower link's rate, loss of both", () => {
  assert.deepEqual(expectPath(viewer("cable", "198.51.100.10"), server), { rttMs: 30, upKbps: 10_000, downKbps: 100_000, lossUpPct: 0, lossDownPct: 0 });
  const e = expectPath(viewer("mobile", "198.51.100.10"), viewer("dsl", "198.51.100.11"));
  assert.equal(e.rttMs, 2 * (40 + 25));
  assert.equal(e.upKbps, 5_000); // mobile's 5 up into dsl's 16 down
  assert.equal(e.downKbps, 1_000); // dsl's 1 up
  assert.ok(Math.abs(e.lossUpPct - 1) < 1e-9);
  assert.deepEqual(expectPath(server, server).upKbps, null);
});

test("probe checks: a path as its profiles say passes; a wrong rate, round trip or loss is named", () => {
  const a = viewer("cable", "198.51.100.10");
  const good: ProbeResult = {
    from: "198.51.100.10 (cable)",
    to: "198.51.100.1 (server)",
    expected: expectPath(a, server),
    pings: { sent: 50, atServer: 50, replies: 50 },
    rttMs: { median: 31, min: 30.5, p95: 32 },
    lossUpPct: 0,
    lossDownPct: 0,
    upKbps: 9_950,
    downKbps: 99_000,
  };
  assert.deepEqual(checkProbe(good), []);
  assert.match(checkProbe({ ...good, upKbps: 20_000 }).join(), /up 20\.00 Mbit\/s, expected 10\.00 Mbit\/s ± 15 %/);
  assert.match(checkProbe({ ...good, downKbps: null }).join(), /no down rate measured/);
  assert.deepEqual(checkProbe({ ...good, upKbps: null, downKbps: null }), [], "rates not measured: nothing to check");
  assert.match(checkProbe({ ...good, rttMs: { median: 45, min: 44, p95: 46 } }).join(), /round trip 45\.0 ms, expected 30\.0 ± 4\.5 ms/);
  assert.match(checkProbe({ ...good, rttMs: { median: null, min: null, p95: null } }).join(), /no ping came back/);
  assert.match(checkProbe({ ...good, pings: { sent: 1000, atServer: 900, replies: 900 }, lossUpPct: 10 }).join(), /up loss 10\.0 % of 1000 pings/);
  // A lossy profile: 1 % of 2000 is what it should be; none at all is not.
  const mobile = {
    ...good,
    expected: expectPath(viewer("mobile", "198.51.100.10"), server),
    rttMs: { median: 80, min: 62, p95: 98 },
    upKbps: 4_950,
    downKbps: 29_700,
  };
  assert.deepEqual(checkProbe({ ...mobile, pings: { sent: 2000, atServer: 1978, replies: 1958 }, lossUpPct: 1.1, lossDownPct: 1.0 }), []);
  assert.match(checkProbe({ ...mobile, pings: { sent: 2000, atServer: 2000, replies: 2000 }, lossUpPct: 0, lossDownPct: 0 }).join(), /up loss 0\.0 %/);
});
