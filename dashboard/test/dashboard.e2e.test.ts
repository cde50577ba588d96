// The dashboard in real Chromium, with the test source and three real viewers: the operator
// logs in with the token and sees, updating by itself, their number and a share from peers
// that matches what their beacons said. A screenshot is kept with the test output.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchChromium, waitFor, waitForSegment, waitLive } from "@peercast/origin/testing";
import { openViewer, startSystem } from "@peercast/player/testing";

const TOKEN = "dashboard-test-token-123456";
const SCREENSHOT = fileURLToPath(new URL("./screenshots/dashboard.png", import.meta.url));

test("the dashboard shows the viewers and their share from peers, live", async () => {
  const system = await startSystem({
    env: { PEERCAST_TEST_SOURCE: "1", PEERCAST_TEST_SOURCE_SIZE: "640x360", PEERCAST_LADDER: "240p:426x240:400", PEERCAST_OPERATOR_TOKEN: TOKEN },
  });
  const browser = await launchChromium({ webrtc: true });
  try {
    const session = (await waitLive(system.origin.http, "main")).session!.id;
    await waitForSegment(system.origin.http, "main", session, "240p", 4);
    const operator = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
    await operator.goto(`${system.origin.http}/dashboard`);
    await operator.fill("input[name=token]", TOKEN);
    await operator.click("button[type=submit]");
    await operator.waitForSelector("#streams");
    const figure = (name: string) => operator.textContent(`#streams tr[data-stream="main"] td[data-figure="${name}"]`);
    assert.equal(await figure("viewers"), "0");

    const viewers = [];
    for (let i = 0; i < 3; i++) viewers.push(await openViewer(browser, `${system.origin.http}/watch/main`));
    await Promise.all(viewers.map((v) => v.playsOn(10)));
    // No reload: the same document picks up the new figures.
    await waitFor(async () => (await figure("viewers")) === "3", 20_000, () => "(viewers never reached 3)");
    await waitFor(async () => (await figure("tracker peers")) === "3", 20_000);
    const stats = await Promise.all(viewers.map((v) => v.stats()));
    const p2p = stats.reduce((n, s) => n + s.p2pBytes, 0);
    const http = stats.reduce((n, s) => n + s.httpBytes, 0);
    const expected = Math.round((100 * p2p) / (p2p + http));
    const shown = Number((await figure("from peers"))?.replace(" %", ""));
    // The dashboard samples every 5 s and the pages beacon every second: a few points apart at most.
    assert.ok(Math.abs(shown - expected) <= 6, `dashboard ${shown} % vs beacons ${expected} %`);
    assert.ok(shown > 30, "peers deliver a real share");
    assert.match((await figure("copies / segment")) ?? "", /240p \d/);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await operator.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`screenshot: ${SCREENSHOT}`);
  } finally {
    await browser.close();
    await system.stop();
  }
});
