// The operator's side over real HTTP and RTMP: login with the token (never in a URL), nothing
// operator-only without it, keys added and revoked live, a publisher cut on demand, and a
// dashboard that stays off on a public address without a token.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { OperatorOverview, StreamListResponse } from "../src/wire/index.js";
import { getJson, startOrigin, waitFor, type OriginHandle } from "./support/origin-process.js";
import { publish, type Publisher } from "./support/publisher.js";
import { waitLive } from "./support/hls.js";

const TOKEN = "operator-token-for-tests-0123";
const FIRST_KEY = "first-stream-key-42";

describe("with an operator token", () => {
  let origin: OriginHandle;
  let cookie = "";
  const publishers: Publisher[] = [];

  before(async () => {
    origin = await startOrigin({ keys: [{ key: FIRST_KEY, stream: "main" }], env: { PEERCAST_OPERATOR_TOKEN: TOKEN } });
  });

  after(async () => {
    await Promise.all(publishers.map((p) => p.stop("SIGKILL")));
    await origin?.stop();
  });

  const login = (token: string) =>
    fetch(`${origin.http}/dashboard/login`, { method: "POST", body: new URLSearchParams({ token }), redirect: "manual", headers: { Origin: origin.http } });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${origin.http}${path}`, { ...init, headers: { Cookie: cookie, Origin: origin.http, "Content-Type": "application/json", ...init.headers } });

  test("without the session: a login form, 401 on the API, a wrong token refused", async () => {
    const page = await fetch(`${origin.http}/dashboard`);
    assert.equal(page.status, 401);
    assert.match(await page.text(), /<form method="post" action="\/dashboard\/login">/);
    assert.equal((await fetch(`${origin.http}/api/operator/overview`)).status, 401);
    const wrong = await login("not-the-operator-token");
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.equal((await fetch(`${origin.http}/api/operator/keys`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })).status, 401);
  });

  test("the token logs in: an HttpOnly, SameSite=Strict cookie that is not the token", async () => {
    const res = await login(TOKEN);
    assert.equal(res.status, 303);
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.ok(!setCookie.includes(TOKEN));
    cookie = setCookie.split(";")[0]!;
    const page = await api("/dashboard");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="dashboard"/);
    const overview = (await (await api("/api/operator/overview")).json()) as OperatorOverview;
    assert.deepEqual(overview.streams.map((s) => s.name), ["main"]);
    assert.match(overview.streams[0]!.keys[0]!.fingerprint, /^key#[0-9a-f]{8}$/);
    // A form posted from another site is refused even with the cookie.
    const crossSite = await fetch(`${origin.http}/dashboard/logout`, { method: "POST", headers: { Cookie: cookie, Origin: "http://evil.example", "Content-Type": "application/x-www-form-urlencoded" } });
    assert.equal(crossSite.status, 403);
  });

  test("a key added by the operator is shown once and publishes; revoked, its publisher is cut and refused", async () => {
    const added = await api("/api/operator/keys", { method: "POST", body: JSON.stringify({ stream: "talks", label: "studio" }) });
    assert.equal(added.status, 201);
    const { key, fingerprint } = (await added.json()) as { key: string; fingerprint: string };
    const overview = JSON.stringify(await (await api("/api/operator/overview")).json());
    assert.ok(overview.includes(fingerprint) && !overview.includes(key), "listed by fingerprint only");
    const publicList = JSON.stringify(await getJson<StreamListResponse>(`${origin.http}/api/streams`));
    assert.ok(!publicList.includes(key) && !publicList.includes(fingerprint) && !publicList.includes("studio"), "nothing operator-only in the public API");

    const p = publish({ rtmpPort: origin.rtmpPort, key });
    publishers.push(p);
    await waitLive(origin.http, "talks");
    assert.equal((await api(`/api/operator/keys/${fingerprint.slice(4)}`, { method: "DELETE" })).status, 204);
    await p.exited;
    const again = publish({ rtmpPort: origin.rtmpPort, key });
    publishers.push(again);
    await again.exited;
    await waitFor(() => origin.logs().some((l) => l.msg === "publish refused" && /unknown stream key/.test(String(l.reason))), 5000);
  });

  test("the operator disconnects a publisher; its key still works", async () => {
    const p = publish({ rtmpPort: origin.rtmpPort, key: FIRST_KEY });
    publishers.push(p);
    await waitLive(origin.http, "main");
    const cut = await api("/api/operator/streams/main/disconnect", { method: "POST" });
    assert.equal(cut.status, 204, await cut.text());
    await p.exited;
    assert.equal((await api("/api/operator/streams/main/disconnect", { method: "POST" })).status, 404);
    const back = publish({ rtmpPort: origin.rtmpPort, key: FIRST_KEY });
    publishers.push(back);
    await waitFor(async () => (await getJson<StreamListResponse>(`${origin.http}/api/streams`)).streams.find((s) => s.name === "main")?.state === "live", 20_000);
  });
});

test("on a public address without a token the dashboard stays off and says why", async () => {
  const origin = await startOrigin({ env: { PEERCAST_HTTP_HOST: "0.0.0.0" } });
  try {
    assert.ok(origin.logs().some((l) => l.msg?.startsWith("dashboard disabled")));
    const page = await fetch(`${origin.http}/dashboard`);
    assert.equal(page.status, 503);
    assert.match(await page.text(), /PEERCAST_OPERATOR_TOKEN/);
    assert.equal((await fetch(`${origin.http}/api/operator/overview`)).status, 503);
  } finally {
    await origin.stop();
  }
});
