// The dashboard in real Chromium, with the test source and three real viewers: the operator
// logs in with the token and sees, updating by itself, their number and a share from peers
// that matches what their beacons said, at the top and per stream. At a laptop's width and a
// phone's, nothing scrolls sideways; screenshots of both are kept with the test output.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchChromium, waitFor, waitForSegment, waitLive } from "@peercast/origin/testing";
import { openViewer, startSystem, type Viewer } from "@peercast/player/testing";

const TOKEN = "dashboard-test-token-123456";
const SCREENSHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
/** A laptop's width and a phone's. */
const WIDTHS = [1366, 390];

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
    const figure = (name: string) => operator.textContent(`#streams [data-stream="main"] [data-figure="${name}"] dd`);
    const headline = (name: string) => operator.textContent(`#headline [data-figure="${name}"] dd`);
    assert.equal(await figure("viewers"), "0");

    const viewers: Viewer[] = [];
    for (let i = 0; i < 3; i++) viewers.push(await openViewer(browser, `${system.origin.http}/watch/main`));
    await Promise.all(viewers.map((v) => v.playsOn(10)));
    // No reload: the same document picks up the new figures.
    await waitFor(
      async () => (await figure("viewers")) === "3",
      20_000,
      () => "(viewers never reached 3)",
    );
    await waitFor(
      async () => (await headline("viewers")) === "3",
      20_000,
      () => "(the headline's viewers never reached 3)",
    );
    await waitFor(async () => (await figure("tracker peers")) === "3", 20_000);
    // The dashboard samples every 5 s and the pages beacon every second: while the share still
    // climbs the two differ by that lag, so they must meet within a few points once it settles.
    let last = "";
    await waitFor(
      async () => {
        const stats = await Promise.all(viewers.map((v) => v.stats()));
        const p2p = stats.reduce((n, st) => n + st.p2pBytes, 0);
        const http = stats.reduce((n, st) => n + st.httpBytes, 0);
        const expected = (100 * p2p) / (p2p + http);
        const shown = Number((await figure("from peers"))?.replace(" %", ""));
        last = `dashboard ${shown} % vs beacons ${expected.toFixed(1)} %`;
        return shown > 30 && Math.abs(shown - expected) <= 5;
      },
      60_000,
      () => last,
    );
    assert.match((await figure("copies / segment")) ?? "", /240p \d/);
    assert.match((await headline("from peers")) ?? "", /^\d+ %$/);
    assert.match((await headline("copies / segment")) ?? "", /^\d+\.\d\d$/);
    // Legends name their series; none shows a placeholder value.
    const legends = await operator.locator('#streams [data-stream="main"] figcaption').allTextContents();
    assert.equal(legends.length, 4);
    assert.ok(
      legends.every((l) => l.length > 0 && !l.includes("--")),
      legends.join(" | "),
    );

    // The actions, through the page: a key added (shown once), then revoked.
    await operator.fill("#add-key input[name=stream]", "talks");
    await operator.fill("#add-key input[name=label]", "studio");
    await operator.click("#add-key button[type=submit]");
    await operator.waitForSelector("#add-key .new-key:not([hidden])");
    assert.match((await operator.textContent("#add-key .new-key")) ?? "", /shown this once.*: [A-Za-z0-9_-]{20,}/);
    // An offline stream is one line; unfolded, its keys' actions show (and stay unfolded across refreshes).
    await operator.click('#streams details[data-stream="talks"] summary');
    await new Promise((r) => setTimeout(r, 3500));
    const revoke = operator.locator('#streams [data-stream="talks"] button', { hasText: "(studio)" });
    await revoke.waitFor({ state: "visible" });
    operator.once("dialog", (d) => void d.accept());
    await revoke.click();
    await waitFor(async () => (await operator.locator('#streams [data-stream="talks"] button', { hasText: "(studio)" }).count()) === 0, 10_000);

    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    for (const width of WIDTHS) {
      await operator.setViewportSize({ width, height: 900 });
      await new Promise((r) => setTimeout(r, 3500)); // a refresh at this width
      const overflow = await operator.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
      assert.ok(overflow.page <= overflow.view, `at ${width} px the page is ${overflow.page} px wide: it scrolls sideways`);
      const file = path.join(SCREENSHOTS, `dashboard-${width}.png`);
      await operator.screenshot({ path: file, fullPage: true });
      console.log(`screenshot: ${file}`);
    }
  } finally {
    await browser.close();
    await system.stop();
  }
});
