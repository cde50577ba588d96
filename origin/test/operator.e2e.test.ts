// The operator's side over real HTTP and RTMP: login with the token (never in a URL), nothing
// operator-only without it, nothing state-changing from another site's page, sessions that end
// at logout, keys added and revoked live, a publisher cut on demand, and a token generated into
// the data dir when none is configured (there is no open mode).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
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
    assert.equal(
      (await fetch(`${origin.http}/api/operator/keys`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })).status,
      401,
    );
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
    assert.deepEqual(
      overview.streams.map((s) => s.name),
      ["main"],
    );
    assert.match(overview.streams[0]!.keys[0]!.fingerprint, /^key#[0-9a-f]{8}$/);
    // A form posted from another site is refused even with the cookie.
    const crossSite = await fetch(`${origin.http}/dashboard/logout`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: "http://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    });
    assert.equal(crossSite.status, 403);
  });

  test("another site's page can neither act nor read: JSON POSTs refused, no CORS on the operator's side", async () => {
    const before = (await (await api("/api/operator/overview")).json()) as OperatorOverview;
    const keysBefore = before.streams.flatMap((s) => s.keys).length;
    const attempts: [string, Record<string, string>][] = [
      ["Origin of another site", { Origin: "http://evil.example" }],
      ["Origin of another port on this host", { Origin: origin.http.replace(/:(\d+)$/, ":1") }],
      ["Sec-Fetch-Site cross-site", { "Sec-Fetch-Site": "cross-site", Origin: origin.http }],
      ["Sec-Fetch-Site same-site", { "Sec-Fetch-Site": "same-site" }],
      ["Origin null (sandboxed frame)", { Origin: "null" }],
    ];
    for (const [what, headers] of attempts) {
      for (const type of ["application/json", "text/plain"]) {
        const res = await fetch(`${origin.http}/api/operator/keys`, {
          method: "POST",
          body: JSON.stringify({ stream: "evil" }),
          headers: { Cookie: cookie, "Content-Type": type, ...headers },
        });
        assert.equal(res.status, 403, `${what}, ${type}`);
      }
      const cut = await fetch(`${origin.http}/api/operator/streams/main/disconnect`, { method: "POST", headers: { Cookie: cookie, ...headers } });
      assert.equal(cut.status, 403, `disconnect: ${what}`);
    }
    const after = (await (await api("/api/operator/overview")).json()) as OperatorOverview;
    assert.equal(after.streams.flatMap((s) => s.keys).length, keysBefore, "no key was minted");
    // Reading: the browser only hands a foreign page what CORS allows.
    const read = await fetch(`${origin.http}/api/operator/overview`, { headers: { Cookie: cookie, Origin: "http://evil.example" } });
    assert.equal(read.headers.get("access-control-allow-origin"), null);
    const preflight = await fetch(`${origin.http}/api/operator/keys`, {
      method: "OPTIONS",
      headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "POST" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    // What players on other sites need keeps its CORS.
    const streams = await fetch(`${origin.http}/api/streams`, { headers: { Origin: "http://evil.example" } });
    assert.equal(streams.headers.get("access-control-allow-origin"), "*");
    // Same-origin (the dashboard's own fetches) still works.
    const same = await api("/api/operator/keys", { method: "POST", body: JSON.stringify({ stream: "same" }), headers: { "Sec-Fetch-Site": "same-origin" } });
    assert.equal(same.status, 201);
    assert.equal((await api(`/api/operator/keys/${((await same.json()) as { fingerprint: string }).fingerprint.slice(4)}`, { method: "DELETE" })).status, 204);
  });

  test("Prometheus' /metrics is on its own listener, not on the viewers' port", async () => {
    const onViewersPort = await fetch(`${origin.http}/metrics`);
    assert.equal(onViewersPort.status, 404);
    assert.doesNotMatch(await onViewersPort.text(), /peercast_/);
    const metrics = await fetch(`${origin.metrics}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /peercast_origin_segment_fetches_total|peercast_http_bytes_total/);
    assert.notEqual(new URL(origin.metrics).port, new URL(origin.http).port);
  });

  test("sessions: a new random id per login, ended by logout", async () => {
    const second = (await login(TOKEN)).headers.get("set-cookie")!.split(";")[0]!;
    assert.notEqual(second, cookie, "two logins, two sessions");
    const page = (c: string) => fetch(`${origin.http}/api/operator/overview`, { headers: { Cookie: c } });
    assert.equal((await page(second)).status, 200);
    const out = await fetch(`${origin.http}/dashboard/logout`, { method: "POST", redirect: "manual", headers: { Cookie: second, Origin: origin.http } });
    assert.equal(out.status, 303);
    assert.equal((await page(second)).status, 401, "the cookie of a logged-out session is worth nothing");
    assert.equal((await page(cookie)).status, 200, "other sessions go on");
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
    await waitFor(
      async () => (await getJson<StreamListResponse>(`${origin.http}/api/streams`)).streams.find((s) => s.name === "main")?.state === "live",
      20_000,
    );
  });
});

test("without a configured token, even on loopback, one is generated into the data dir and required", async () => {
  const origin = await startOrigin();
  try {
    const file = path.join(origin.dataDir, "operator-token");
    const token = fs.readFileSync(file, "utf8").trim();
    assert.ok(token.length >= 16);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const logged = origin.logs().find((l) => l.msg?.startsWith("generated the operator token"));
    assert.equal(logged?.file, file);
    assert.ok(!origin.lines.join("\n").includes(token), "the token is never logged");
    const page = await fetch(`${origin.http}/dashboard`);
    assert.equal(page.status, 401);
    const body = await page.text();
    assert.ok(body.includes("operator-token") && body.includes("PEERCAST_DATA_DIR"), "the login page says where the token is");
    assert.ok(!body.includes(origin.dataDir), "without the machine's paths");
    assert.equal((await fetch(`${origin.http}/api/operator/overview`)).status, 401);
    const minted = await fetch(`${origin.http}/api/operator/keys`, {
      method: "POST",
      body: JSON.stringify({ stream: "x" }),
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(minted.status, 401);
    const login = await fetch(`${origin.http}/dashboard/login`, {
      method: "POST",
      body: new URLSearchParams({ token }),
      redirect: "manual",
      headers: { Origin: origin.http },
    });
    assert.equal(login.status, 303);
  } finally {
    await origin.stop();
  }
  // A restart reads the same token.
  const again = await startOrigin({ env: { PEERCAST_DATA_DIR: origin.dataDir } });
  try {
    assert.ok(again.logs().some((l) => l.msg === "operator token read from its file"));
  } finally {
    await again.stop();
  }
});
