// One address holding the RTMP port with idle connections must not lock publishers out: the
// per-address cap keeps it from filling the global cap, and the handshake deadline frees idle
// slots quickly. The origin runs with the default caps and deadlines.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { startOrigin, waitFor, type OriginHandle } from "./support/origin-process.js";
import { publish, type Publisher } from "./support/publisher.js";
import { streamInfo, waitForSegment } from "./support/hls.js";

const KEY = "flood-test-key-Rt7mp";

/** `count` connections from `localAddress` that send nothing, each reopened soon after it is closed. */
function halfOpenFlood(port: number, localAddress: string, count: number) {
  const sockets = new Set<net.Socket>();
  let stopped = false;
  let closes = 0;
  const open = () => {
    if (stopped) return;
    const s = net.connect({ port, host: "127.0.0.1", localAddress });
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => {
      sockets.delete(s);
      closes++;
      // Reopened after half a second: far more eager than the 10 s of the measured attack.
      if (!stopped) setTimeout(open, 500);
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    closes: () => closes,
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

async function refusedCount(origin: OriginHandle, reason: string): Promise<number> {
  const text = await (await fetch(`${origin.metrics}/metrics`)).text();
  return Number(new RegExp(`peercast_rtmp_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

describe("an RTMP connection flood from one address", () => {
  let origin: OriginHandle;
  let flood: ReturnType<typeof halfOpenFlood> | undefined;
  let publisher: Publisher | undefined;

  before(async () => {
    origin = await startOrigin({ keys: [{ key: KEY, stream: "main" }] });
  });

  after(async () => {
    flood?.stop();
    await publisher?.stop();
    await origin?.stop();
  });

  test("a connection that sends no handshake is closed long before the publish deadline", async () => {
    const before = await refusedCount(origin, "handshake_timeout");
    const idle = net.connect({ port: origin.rtmpPort, host: "127.0.0.1" });
    idle.on("error", () => undefined);
    await new Promise((resolve) => idle.once("connect", resolve));
    idle.write(Buffer.from([3])); // C0 alone: the start of a handshake that never finishes
    const started = Date.now();
    await new Promise((resolve) => idle.once("close", resolve));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 6000, `closed after ${elapsed} ms: the default handshake deadline is 3 s, the publish deadline 10 s`);
    assert.equal(await refusedCount(origin, "handshake_timeout"), before + 1);
  });

  test("300 half-open connections from 127.0.0.2 do not keep a publisher on 127.0.0.1 out", async () => {
    flood = halfOpenFlood(origin.rtmpPort, "127.0.0.2", 300);
    // Every one of the 300 reached the origin: at least those over the global cap (256) were closed.
    await waitFor(() => flood!.closes() >= 300 - 256, 10_000);
    publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY });
    const session = await waitFor(
      async () => (await streamInfo(origin.http, "main"))?.session,
      5000,
      () => `for the publish to be accepted; ffmpeg says: ${publisher!.output()}`,
    );
    // Not just accepted: it plays while the flood goes on.
    await waitForSegment(origin.http, "main", session.id, session.renditions[0]!.name, 1);
    assert.ok((await refusedCount(origin, "too_many_from_address")) > 0, "the flood was refused per address");
    assert.equal(await refusedCount(origin, "too_many_connections"), 0, "one address never filled the global cap");
  });
});
