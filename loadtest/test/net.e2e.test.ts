// The emulated access network for real: namespaces, TAPs, the user-space switch, NATs. Probes
// must find each profile's round trip, rates and loss; two cone NATs must let a UDP hole punch
// through, two symmetric NATs must not; nothing may be left behind, even when the load test is
// killed. Needs root (CI runs the suite as root inside `unshare -n`).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import test from "node:test";
import { fileURLToPath } from "node:url";
import { NetworkEmulator, SERVER_ADDRESS, type PeerAddress } from "../src/net/emulator.js";
import { listNamespaces } from "../src/net/namespaces.js";
import { type ProbeResult } from "../src/net/probe.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const near = (measured: number | null, expected: number, tolerance: number, what: string) =>
  assert.ok(measured !== null && Math.abs(measured - expected) <= tolerance, `${what}: ${measured}, expected ${expected} ± ${tolerance}`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Interfaces in this namespace whose names start with `prefix`. */
const links = (prefix: string) =>
  execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
    .filter((n) => n.startsWith(prefix));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/** Two viewers punch a UDP hole after each learnt its public address from a reflector; what each got from the other. */
async function holePunch(
  net: NetworkEmulator,
  a: PeerAddress,
  b: PeerAddress,
  skewMs = 0,
): Promise<{ received: number[]; publics: string[]; locals: string[] }> {
  const reflector = dgram.createSocket("udp4");
  await new Promise<void>((r) => reflector.bind(0, SERVER_ADDRESS, r));
  reflector.on("message", (_msg, from) => reflector.send(`you ${from.address}:${from.port}`, from.port, from.address));
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const agents = [a, b].map((p) => {
      const [cmd, ...args] = net.execArgs(p.netns, process.execPath, [
        path.join(HERE, "udp-punch-agent.js"),
        p.address,
        SERVER_ADDRESS,
        String(reflector.address().port),
      ]);
      const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "inherit"] });
      children.push(child);
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? "null") as Record<string, string | number>;
      return { child, next };
    });
    const hello = await Promise.all(agents.map((x) => x.next()));
    // With a skew, a starts sending before b (as ICE's two sides do: the answerer checks first).
    agents[0]!.child.stdin.write(`${hello[1]!.public}\n`);
    if (skewMs > 0) await new Promise((r) => setTimeout(r, skewMs));
    agents[1]!.child.stdin.write(`${hello[0]!.public}\n`);
    const done = await Promise.all(agents.map((x) => x.next()));
    return { received: done.map((d) => d.received as number), publics: hello.map((h) => h.public as string), locals: hello.map((h) => h.local as string) };
  } finally {
    for (const child of children) child.kill();
    reflector.close();
  }
}

test("emulated links: profiles' round trips, rates and loss, NATs, counters, and a clean stop", { timeout: 120_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-net-"));
  const net = await NetworkEmulator.start({ dir, seed: 1 });
  let stopped = false;
  try {
    const cable = await net.addPeerHost([{ profile: "cable" }, { profile: "cable" }]);
    const [c1, c2] = cable.addresses as [PeerAddress, PeerAddress];
    const m1 = await net.addViewer({ profile: "mobile" });
    const m2 = await net.addViewer({ profile: "mobile" });
    const probes: ProbeResult[] = [];

    await t.test("cable: 2 x 15 ms to the server, 10 up and 100 down; two peers of one process reach each other through their links", async () => {
      const p = await net.probe(c1, net.server);
      near(p.rttMs.median, 30, 4.5, "round trip to the server");
      near(p.upKbps, 10_000, 1_500, "up");
      near(p.downKbps, 100_000, 15_000, "down");
      // Same namespace: through the switch (both peers' links: 2 x (15 + 15) ms), not loopback.
      const q = await net.probe(c1, c2);
      near(q.rttMs.median, 60, 9, "round trip between the peers");
      near(q.upKbps, 10_000, 1_500, "one peer's uplink to the other");
      near(q.downKbps, 10_000, 1_500, "the other's uplink back");
      probes.push(p, q);
    });

    await t.test("mobile: 2 x 40 ms ± 10 to the server, 5 up and 30 down, about 1 % loss each way", async () => {
      const p = await net.probe(m1, net.server);
      near(p.rttMs.median, 80, 12, "round trip to the server");
      near(p.upKbps, 5_000, 750, "up");
      near(p.downKbps, 30_000, 4_500, "down");
      const q = await net.probe(m1, m2);
      near(q.rttMs.median, 160, 24, "round trip between viewers");
      near(q.upKbps, 5_000, 750, "viewer to viewer");
      probes.push(p, q);
      const loss = await net.probe(m1, net.server, { pings: 2000, pingIntervalMs: 1, rate: false });
      near(loss.lossUpPct, 1, 0.7, "loss viewer -> server");
      near(loss.lossDownPct, 1, 0.7, "loss server -> viewer");
      const link = (await net.counters()).links[m1.publicAddress]!;
      near((100 * link.up.lost) / link.up.frames, 1, 0.6, "the uplink's own count of lost frames");
    });

    await t.test("NATs: two cone NATs punch a UDP hole, two symmetric NATs cannot", async () => {
      const natHost = await net.addPeerHost([
        { profile: "cable", nat: "cone" },
        { profile: "cable", nat: "cone" },
      ]);
      const [a, b] = natHost.addresses as [PeerAddress, PeerAddress];
      assert.equal(a.address, "203.0.113.2");
      assert.notEqual(a.publicAddress, b.publicAddress);
      const cone = await holePunch(net, a, b);
      assert.deepEqual(
        cone.publics.map((p) => p.split(":")[0]),
        [a.publicAddress, b.publicAddress],
        "the reflector sees the NATs' public addresses",
      );
      assert.deepEqual(
        cone.publics.map((p) => p.split(":")[1]),
        cone.locals.map((l) => l.split(":")[1]),
        "a cone NAT keeps the port",
      );
      assert.ok(
        cone.received.every((n) => n > 0),
        `cone NATs: received ${cone.received}`,
      );
      // One side's packets reach the other's router before that side has sent anything: a
      // router that let them in as a connection to itself would hold the very port the other
      // side's NAT must keep, and the hole would never open (as in ICE, where one side starts
      // its checks a signalling trip before the other). Home routers drop them.
      const skewed = await holePunch(net, a, b, 400);
      assert.ok(
        skewed.received.every((n) => n > 0),
        `cone NATs, one side first: received ${skewed.received}`,
      );
      // A symmetric peer joining the running host, and a symmetric Chromium-style viewer.
      const [s1] = (await net.addPeers(natHost.netns, [{ profile: "cable", nat: "symmetric" }])) as [PeerAddress];
      const s2 = await net.addViewer({ profile: "cable", nat: "symmetric" });
      assert.equal(s1.address, "203.0.113.4");
      const symmetric = await holePunch(net, s1, s2);
      assert.deepEqual(
        symmetric.publics.map((p) => p.split(":")[0]),
        [s1.publicAddress, s2.publicAddress],
      );
      assert.deepEqual(symmetric.received, [0, 0], "symmetric NATs: nothing gets through");
      // A NATed viewer still reaches the server and other viewers over its own link.
      const p = await net.probe(s2, c1);
      near(p.rttMs.median, 60, 9, "round trip from behind a NAT");
      probes.push(p);
    });

    await t.test("counters show each link's traffic; the self-check passes; bad links are refused", async () => {
      const c = await net.counters();
      assert.equal(Object.keys(c.links).length, 8);
      const up = c.links[c1.publicAddress]!.up;
      // Three 1 s trains at 12.5 Mbit/s (to the server, to c2, and s2's probe's train back)
      // went into c1's 10 Mbit/s uplink: 1.25 MB each through it, 0.31 MB each more in its queue.
      assert.ok(up.bytes > 3 * 1_250_000 && up.bytes < 3 * 1_600_000, `c1 up bytes ${up.bytes}`);
      assert.ok(up.maxQueueMs > 100, "the overdriven trains filled the queue");
      assert.equal(c.links[c1.publicAddress]!.label, "cable");
      assert.equal(c.links[c1.publicAddress]!.down.rateKbps, 100_000);
      assert.ok(c.switch.cpuSeconds > 0 && c.switch.releases > 10_000);
      const fromFile = JSON.parse(fs.readFileSync(path.join(dir, "net-counters.json"), "utf8")) as typeof c;
      assert.ok(fromFile.links[c1.publicAddress], "net-counters.json is written");
      assert.deepEqual(await net.selfCheck(probes), []);
      const wrong = { ...probes[0]!, upKbps: probes[0]!.expected.upKbps! * 2 };
      assert.match((await net.selfCheck([wrong])).join(), /up 20\.00 Mbit\/s, expected 10\.00/);
      await assert.rejects(
        net.addViewer({ profile: { name: "odd", downMbps: 1, upMbps: 1, delayMs: 5, jitterMs: 10, lossPct: 0 } }),
        /jitter within \[0, delay\]/,
      );
      await assert.rejects(net.addPeers(m1.netns, [{ profile: "cable" }]), /not a peer host/);
    });

    const switchPid = net.switchPid;
    const last = await net.stop();
    stopped = true;
    assert.ok(last && last.links[c1.publicAddress]!.up.bytes > 0, "the last counters come back");
    assert.deepEqual(
      listNamespaces().filter((n) => n.startsWith(net.prefix)),
      [],
    );
    assert.deepEqual(links(`pc${process.pid}t`), []);
    assert.ok(!alive(switchPid), "the switch has exited");
  } finally {
    if (!stopped) await net.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a killed load test leaves nothing behind: the switch sees its end and removes the namespaces", { timeout: 30_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-net-"));
  const child = spawn(process.execPath, [path.join(HERE, "net-orphan-agent.js"), dir], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    const { prefix, switchPid, netns } = JSON.parse(line) as { prefix: string; switchPid: number; netns: string };
    assert.ok(listNamespaces().includes(netns));
    assert.equal(listNamespaces().filter((n) => n.startsWith(prefix)).length, 2, "the viewer's namespace and its router's");
    child.kill("SIGKILL");
    assert.ok(await until(() => !alive(switchPid) && listNamespaces().every((n) => !n.startsWith(prefix)), 10_000), `left: ${listNamespaces()}`);
    assert.deepEqual(links(`pc${child.pid}t`), []);
  } finally {
    child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("namespaces of a dead load test are removed when the next one starts", { timeout: 30_000 }, async () => {
  const gone = spawn("true");
  await new Promise((r) => gone.on("exit", r));
  const stale = `pcast-${gone.pid}-0-h0`;
  execFileSync("ip", ["netns", "add", stale]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-net-"));
  try {
    assert.ok(listNamespaces().includes(stale));
    const net = await NetworkEmulator.start({ dir });
    await net.stop();
    assert.ok(!listNamespaces().includes(stale));
  } finally {
    execFileSync("sh", ["-c", `ip netns del ${stale} 2>/dev/null || true`]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
