// The real command, short: its own system (origin with the test source, tracker), one Chromium
// viewer and three light peers, HTTP-only then P2P; the report must pass its self-checks.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import type { RunReport } from "../src/report/report.js";

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/cli.js");

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

test("bad flags: a clear message and exit code 2, nothing started", async () => {
  const { code, output } = await runCli(["--scenario", "bogus"]);
  assert.equal(code, 2);
  assert.match(output, /--scenario: "bogus" is not one of steady, churn/);
});

/** Runs the CLI with `args` into a fresh directory, checks its report, removes the directory. */
async function withReport(args: string[], check: (report: RunReport, out: string) => void): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-loadtest-"));
  try {
    const { code, output } = await runCli([...args, "--out", out, "--no-progress"]);
    assert.equal(code, 0, output);
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as RunReport;
    // At least four per phase: HTTP bytes and peer bytes (or their absence) reconciled, copies counted, latency measured.
    assert.ok(
      report.phases.length > 0 && report.checks.length >= 4 * report.phases.length && report.checks.every((c) => c.ok),
      JSON.stringify(report.checks, null, 1),
    );
    check(report, out);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

test("a short run: viewers and light peers, P2P beside HTTP-only, a report that passes its self-checks", { timeout: 300_000 }, () =>
  withReport(["--viewers", "1", "--peers", "3", "--duration", "40", "--warmup", "10", "--starts", "3"], (report, out) => {
    const [http, p2p] = report.phases;
    assert.equal(http?.spec.transport, "http");
    assert.equal(p2p?.spec.transport, "p2p");
    assert.deepEqual([p2p.audience.chromium, p2p.audience.light], [1, 3]);
    // HTTP-only, every member fetches every segment once: the count the P2P figures rest on.
    assert.equal(http.offload.copiesPerSegment["360p"], 4);
    // Four members on one rendition: peers must carry a real part of it.
    assert.ok(p2p.offload.shareFromPeers > 0.3, `share ${p2p.offload.shareFromPeers}`);
    assert.ok(p2p.cost.originEgressMbps < http.cost.originEgressMbps, "P2P must cost the origin less");
    for (const p of report.phases) {
      assert.equal(p.startup.probesMs.n, 3, `${p.label}: start-up probes`);
      assert.ok(p.latency.glassToGlassMs.n > 20, `${p.label}: block-code samples`);
      assert.deepEqual(p.errors, []);
    }
    assert.equal(report.comparisons.length, 1);
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8");
    assert.match(md, /\| origin copies per segment \(bound 1\.0\) \| \d\.\d\d \(360p\)/);
    assert.match(md, /Self-checks: all passed/);
    const svg = fs.readFileSync(path.join(out, report.plots[0]!), "utf8");
    assert.ok((svg.match(/<path /g) ?? []).length === 4, "two charts, two phases each");
  }),
);

// The seeder election (player/scripts/core-patches.mjs): with upstream's random seeding six
// peers fetched 1.6-2.4 copies of each segment from the origin; elected, about one. The peers
// run in two processes, as large audiences do: their counters still add up (the self-checks).
// P2P alone: the short run above checks the HTTP-only count.
test("the seeder election: six light peers in two processes take each new segment from the origin about once", { timeout: 300_000 }, () =>
  withReport(
    ["--viewers", "0", "--peers", "6", "--peers-per-host", "3", "--duration", "40", "--warmup", "10", "--starts", "0", "--transport", "p2p"],
    (report) => {
      const [p2p, ...more] = report.phases;
      assert.ok(p2p && more.length === 0 && p2p.spec.transport === "p2p");
      assert.deepEqual([p2p.audience.light, p2p.audience.lightPeerHosts], [6, 2]);
      const copies = p2p.offload.copiesPerSegment["360p"];
      assert.ok(copies !== undefined && copies !== null && copies <= 1.3, `P2P copies per segment ${copies}`);
      assert.equal(p2p.stalls.count, 0);
      // With light peers alone, their fetches by cause make up the origin's own count (windows of
      // the same length, shifted by the playlist's retention: a segment's worth of slack), and the
      // election picks the one that fetches a new segment before it is urgent.
      const causes = p2p.offload.lightFetchesPerSegment;
      assert.ok(causes, "fetches by cause");
      const fetched = causes.elected + causes.urgent + causes.afterPeer + causes.alone;
      assert.ok(Math.abs(fetched - copies) <= 0.35, `fetches by cause ${JSON.stringify(causes)} against ${copies} copies`);
      assert.ok(causes.elected >= 0.7, `elected ${causes.elected}`);
    },
  ),
);

// ABR on (--rendition auto): light peers take the renditions in turn, and every rendition's
// swarm shares its own segments; the report gives each rendition its audience and copies.
test("ABR on: light peers spread over both renditions, each shared by its own swarm, reported per rendition", { timeout: 300_000 }, () =>
  withReport(
    [
      "--viewers",
      "0",
      "--peers",
      "4",
      "--duration",
      "30",
      "--warmup",
      "10",
      "--starts",
      "0",
      "--ladder",
      "360p:640x360:800,240p:426x240:300",
      "--rendition",
      "auto",
      "--transport",
      "p2p",
    ],
    (report, out) => {
      const [p2p] = report.phases;
      assert.ok(p2p);
      assert.deepEqual(p2p.audience.byRendition, { "360p": 2, "240p": 2 });
      assert.equal(p2p.offload.shareBound, 0.5);
      for (const rendition of ["360p", "240p"]) {
        const copies = p2p.offload.copiesPerSegment[rendition];
        assert.ok(copies !== undefined && copies !== null && copies < 2, `${rendition}: peers must carry part of it, P2P copies per segment ${copies}`);
      }
      assert.match(
        fs.readFileSync(path.join(out, "report.md"), "utf8"),
        /\| audience by rendition, end of phase \(N_r\) \| 2 \((360p|240p)\), 2 \((360p|240p)\) \|/,
      );
    },
  ),
);

test("emulated links: a cable audience, each member in a namespace of its own behind its own link, proven by probes", { timeout: 400_000 }, () =>
  withReport(
    ["--net", "cable", "--viewers", "1", "--peers", "2", "--duration", "40", "--warmup", "10", "--starts", "1", "--transport", "p2p"],
    (report, out) => {
      // The links were measured and were what the profile says.
      assert.deepEqual(
        report.linkProbes.map((p) => `${p.profile} ${p.path}`),
        ["cable viewer-viewer", "cable viewer-server"],
      );
      const probe = report.linkProbes[0]!.result;
      assert.ok(probe.rttMs.median! > 50 && probe.rttMs.median! < 75, `viewer to viewer round trip ${probe.rttMs.median} ms (2 x (15 + 15))`);
      const [p] = report.phases;
      assert.equal(p?.spec.net, "cable");
      assert.deepEqual([p.audience.chromium, p.audience.light], [1, 2]);
      // 10 Mbit/s up each against a ~0.9 Mbit/s rendition: the uplinks could carry everything.
      assert.equal(p.net?.boundCopies, 1);
      assert.ok(p.net.bitrateKbps! > 300, `bitrate ${p.net.bitrateKbps} kbit/s`);
      assert.equal(p.net.pairsConnectedPct, 100, "no NAT: every pair connects");
      assert.ok(p.offload.shareFromPeers > 0.3, `share ${p.offload.shareFromPeers}`);
      assert.ok(p.net.links.frames > 1000, "the members' traffic crossed the emulated links");
      assert.deepEqual(p.errors, []);
      const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as { phases: Record<string, unknown>[] };
      assert.deepEqual(Object.keys(summary.phases[0]!).sort(), [
        "bitrateKbps",
        "boundCopies",
        "copiesPerSegment",
        "hostCpuPct",
        "latencyMedianS",
        "latencyP95S",
        "lightPeers",
        "mode",
        "pairsConnectedPct",
        "profile",
        "rendition",
        "round",
        "sharePct",
        "stallRatioPct",
        "startupMedianMs",
        "transport",
        "viewers",
      ]);
      assert.equal(summary.phases[0]!.profile, "cable");
    },
  ),
);
