// The ffmpeg restart budget is per time window: crashes further apart than the window are all
// restarted, while more than the budget within it still cut the publisher.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cmdline, descendants, startOrigin, waitFor, type OriginHandle } from "./support/origin-process.js";
import { publish, type Publisher } from "./support/publisher.js";
import { streamInfo, waitForSegment, waitLive } from "./support/hls.js";

const KEY = "restart-key-Wn4dow";
const WINDOW_SEC = 4;

describe("ffmpeg restarts within a time window", () => {
  let origin: OriginHandle;
  let publisher: Publisher;
  let session: string;

  before(async () => {
    origin = await startOrigin({
      keys: [{ key: KEY, stream: "main" }],
      env: { PEERCAST_FFMPEG_MAX_RESTARTS: "1", PEERCAST_FFMPEG_RESTART_WINDOW_SEC: String(WINDOW_SEC) },
    });
    publisher = publish({ rtmpPort: origin.rtmpPort, key: KEY });
    session = (await waitLive(origin.http, "main")).session!.id;
    await waitForSegment(origin.http, "main", session, "180p", 1); // a 320x180 source gets the 180p rung only
  });

  after(async () => {
    await publisher?.stop();
    await origin?.stop();
  });

  const transcoder = (except?: number) => descendants(origin.pid).find((p) => p !== except && cmdline(p).includes(`/hls/main/${session}/`));
  const keptFailing = () => origin.logs().filter((l) => l.msg === "ffmpeg keeps failing, disconnecting the publisher");

  test("crashes further apart than the window are each restarted, past the budget of 1", async () => {
    let pid = await waitFor(() => transcoder(), 10_000);
    for (let crash = 1; crash <= 2; crash++) {
      if (crash > 1) await new Promise((r) => setTimeout(r, (WINDOW_SEC + 1) * 1000));
      process.kill(pid, "SIGKILL");
      pid = await waitFor(
        () => transcoder(pid),
        10_000,
        () => `for the restart after crash ${crash}`,
      );
    }
    assert.equal(keptFailing().length, 0);
    const info = await streamInfo(origin.http, "main");
    assert.equal(info?.state, "live");
    assert.equal(info?.session?.id, session);
    assert.match(await (await fetch(`${origin.metrics}/metrics`)).text(), /peercast_ffmpeg_restarts_total\{stream="main"\} 2\n/);
  });

  test("a second crash within the window cuts the publisher", async () => {
    // The previous test's last restart is under a second old: this crash is the second in the window.
    process.kill(await waitFor(() => transcoder(), 10_000), "SIGKILL");
    await waitFor(() => keptFailing().length > 0, 10_000);
    await waitFor(async () => (await streamInfo(origin.http, "main"))?.state === "reconnecting", 10_000);
  });
});
