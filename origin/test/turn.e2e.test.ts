// TURN for viewers who need it, without an open relay: the settings every page gets (and edges
// cache) carry no credential; each viewer asks for its own, short-lived, never cached; a real
// coturn (use-auth-secret) grants an allocation with them and refuses altered ones.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { after, before, test } from "node:test";
import type { StreamDetailResponse, TurnCredentialsResponse } from "../src/wire/index.js";
import { getJson, startOrigin, waitFor, type OriginHandle } from "./support/origin-process.js";

const SECRET = "coturn-shared-secret-for-tests";
let turnPort: number;
let turn: ChildProcess;
let turnLog = "";
let origin: OriginHandle;

const freeUdpPort = () =>
  new Promise<number>((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** One TURN allocation (and a round trip through it) with coturn's own test client. */
function allocate(username: string, credential: string): { ok: boolean; output: string } {
  const r = spawnSync(
    "turnutils_uclient",
    ["-u", username, "-w", credential, "-p", String(turnPort), "-n", "1", "-m", "1", "-c", "-y", "-e", "127.0.0.1", "127.0.0.1"],
    { encoding: "utf8", timeout: 15_000 },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.slice(-2000) };
}

before(async () => {
  turnPort = await freeUdpPort();
  turn = spawn(
    "turnserver",
    [
      "-n",
      "--listening-ip=127.0.0.1",
      `--listening-port=${turnPort}`,
      "--relay-ip=127.0.0.1",
      "--use-auth-secret",
      `--static-auth-secret=${SECRET}`,
      "--realm=peercast.test",
      "--no-tls",
      "--no-dtls",
      "--no-cli",
      "--log-file=stdout",
      "--allow-loopback-peers",
      "--min-port=49160",
      "--max-port=49400",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  turn.stdout!.on("data", (c: Buffer) => (turnLog += c.toString()));
  await waitFor(
    () => /Total General servers|listener opened on/.test(turnLog),
    10_000,
    () => turnLog,
  );
  origin = await startOrigin({
    keys: [{ key: "turn-test-key-123", stream: "main" }],
    env: {
      PEERCAST_ICE_SERVERS: JSON.stringify([{ urls: `stun:127.0.0.1:${turnPort}` }, { urls: `turn:127.0.0.1:${turnPort}` }]),
      PEERCAST_TURN_SECRET: SECRET,
      PEERCAST_TURN_TTL_SEC: "600",
    },
  });
});

after(async () => {
  await origin?.stop();
  turn?.kill("SIGTERM");
});

test("the cacheable settings name STUN and where to ask for TURN, never a credential", async () => {
  const res = await fetch(`${origin.http}/api/streams/main`);
  const text = await res.text();
  const detail = JSON.parse(text) as StreamDetailResponse;
  assert.deepEqual(detail.player.iceServers, [{ urls: [`stun:127.0.0.1:${turnPort}`] }]);
  assert.equal(detail.player.turnCredentialsPath, "/api/turn-credentials");
  assert.ok(!/"credential"|"username"|turn:/.test(text), text);
});

test("each viewer gets its own short-lived credentials, which coturn accepts; altered ones it refuses", async () => {
  const ask = () => fetch(`${origin.http}/api/turn-credentials`);
  const first = await ask();
  assert.equal(first.status, 200);
  assert.match(first.headers.get("cache-control") ?? "", /no-store/);
  const a = (await first.json()) as TurnCredentialsResponse;
  const b = await getJson<TurnCredentialsResponse>(`${origin.http}/api/turn-credentials`);
  const [sa, sb] = [a.iceServers[0]!, b.iceServers[0]!];
  assert.deepEqual(sa.urls, [`turn:127.0.0.1:${turnPort}`]);
  assert.notEqual(sa.username, sb.username, "one per viewer");
  const expiry = Number(sa.username!.split(":")[0]);
  const now = Date.now() / 1000;
  assert.ok(expiry > now + 590 && expiry < now + 610, `expires in the configured 600 s (${expiry - now})`);
  assert.equal(a.ttlSec, 600);

  const good = allocate(sa.username!, sa.credential!);
  assert.ok(good.ok, good.output);
  // A viewer who stretches its expiry, or guesses a password, gets nothing.
  const stretched = `${expiry + 86_400}:${sa.username!.split(":")[1]}`;
  assert.equal(allocate(stretched, sa.credential!).ok, false, "a changed expiry breaks the credential");
  assert.equal(allocate(sa.username!, "d3Jvbmc=").ok, false);
});

test("without TURN configured there is nothing to ask for", async () => {
  const plain = await startOrigin({ keys: [{ key: "turn-test-key-456", stream: "main" }] });
  try {
    const detail = await getJson<StreamDetailResponse>(`${plain.http}/api/streams/main`);
    assert.equal(detail.player.turnCredentialsPath, undefined);
    assert.equal((await fetch(`${plain.http}/api/turn-credentials`)).status, 404);
  } finally {
    await plain.stop();
  }
});
