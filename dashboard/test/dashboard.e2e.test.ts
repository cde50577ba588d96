// The dashboard in real Chromium, with the test source and three real viewers: the operator
// logs in with the token and sees, updating by itself, their number and a share from peers
// that matches what their beacons said. A screenshot is kept with the test output.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchChromium, waitFor, waitForSegment, waitLive } from "@peercast/origin/testing";
import { openViewer, startSystem, type Viewer } from "@peercast/player/testing";

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

    const viewers: Viewer[] = [];
    for (let i = 0; i < 3; i++) viewers.push(await openViewer(browser, `${system.origin.http}/watch/main`));
    await Promise.all(viewers.map((v) => v.playsOn(10)));
    // No reload: the same document picks up the new figures.
    await waitFor(async () => (await figure("viewers")) === "3", 20_000, () => "(viewers never reached 3)");
    await waitFor(async () => (await figure("tracker peers")) === "3", 20_000);
    // The dashboard samples every 5 s and the pages beacon every second: while the share still
    // climbs the two differ by that lag, so they must meet within a few points once it settles.
    let last = "";
    await waitFor(async () => {
      const stats = await Promise.all(viewers.map((v) => v.stats()));
      const p2p = stats.reduce((n, st) => n + st.p2pBytes, 0);
      const http = stats.reduce((n, st) => n + st.httpBytes, 0);
      const expected = (100 * p2p) / (p2p + http);
      const shown = Number((await figure("from peers"))?.replace(" %", ""));
      last = `dashboard ${shown} % vs beacons ${expected.toFixed(1)} %`;
      return shown > 30 && Math.abs(shown - expected) <= 5;
    }, 60_000, () => last);
    assert.match((await figure("copies / segment")) ?? "", /240p \d/);

    // The actions, through the page: a key added (shown once), then revoked.
    await operator.fill("#add-key input[name=stream]", "talks");
    await operator.fill("#add-key input[name=label]", "studio");
    await operator.click("#add-key button[type=submit]");
    await operator.waitForSelector("#add-key .new-key:not([hidden])");
    assert.match((await operator.textContent("#add-key .new-key")) ?? "", /shown this once.*: [A-Za-z0-9_-]{20,}/);
    const revoke = operator.locator('section[data-stream="talks"] button', { hasText: "(studio)" });
    await revoke.waitFor();
    operator.once("dialog", (d) => void d.accept());
    await revoke.click();
    await waitFor(async () => (await operator.locator('section[data-stream="talks"] button', { hasText: "(studio)" }).count()) === 0, 10_000);

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await operator.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`screenshot: ${SCREENSHOT}`);
  } finally {
    await browser.close();
    await system.stop();
  }
});
