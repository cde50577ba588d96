// Operator sessions and the same-origin rule, without a server: expiry on a fake clock, the
// bound on sessions, and which browser requests count as the operator's own pages.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Context } from "hono";
import { OperatorAuth, SESSION_COOKIE } from "../src/operator/auth.js";
import { crossOriginRefusal } from "../src/operator/same-origin.js";

/** Just enough of a hono Context for getCookie(). */
const withCookie = (id: string) =>
  ({
    req: {
      raw: { headers: new Headers({ cookie: `${SESSION_COOKIE}=${id}` }) },
      header: (name: string) => (name.toLowerCase() === "cookie" ? `${SESSION_COOKIE}=${id}` : undefined),
    },
  }) as unknown as Context;

test("a session expires on the server at its TTL, whatever the cookie says", () => {
  let now = 1_000_000;
  const auth = new OperatorAuth({ token: "operator-token-0123456789", sessionTtlMs: 60_000, maxSessions: 10, now: () => now });
  const id = auth.startSession();
  assert.ok(auth.isOperator(withCookie(id)));
  now += 59_000;
  assert.ok(auth.isOperator(withCookie(id)));
  now += 1_000;
  assert.equal(auth.isOperator(withCookie(id)), false);
  assert.equal(auth.sessionCount, 0);
});

test("ids are random and unguessable from the token; logout ends only its own session", () => {
  const a = new OperatorAuth({ token: "operator-token-0123456789", sessionTtlMs: 60_000, maxSessions: 10 });
  const b = new OperatorAuth({ token: "operator-token-0123456789", sessionTtlMs: 60_000, maxSessions: 10 });
  const one = a.startSession();
  const two = a.startSession();
  assert.notEqual(one, two);
  assert.equal(b.isOperator(withCookie(one)), false, "a session of one origin process is nothing to another with the same token");
  assert.ok(one.length >= 43);
  a.endSession(withCookie(one));
  assert.equal(a.isOperator(withCookie(one)), false);
  assert.ok(a.isOperator(withCookie(two)));
  assert.equal(a.isOperator(withCookie("")), false);
});

test("sessions are bounded: beyond the cap the oldest goes", () => {
  const auth = new OperatorAuth({ token: "operator-token-0123456789", sessionTtlMs: 60_000, maxSessions: 3 });
  const ids = [0, 1, 2, 3].map(() => auth.startSession());
  assert.equal(auth.isOperator(withCookie(ids[0]!)), false);
  assert.ok(ids.slice(1).every((id) => auth.isOperator(withCookie(id))));
});

test("the token check", () => {
  const auth = new OperatorAuth({ token: "operator-token-0123456789", sessionTtlMs: 60_000, maxSessions: 3 });
  assert.ok(auth.tokenMatches("operator-token-0123456789"));
  assert.equal(auth.tokenMatches("operator-token-012345678"), false);
  assert.equal(auth.tokenMatches(""), false);
});

test("same origin: by Sec-Fetch-Site, else by Origin against Host or the public URL", () => {
  const pub = "https://live.example.org";
  const r = (secFetchSite?: string, origin?: string, host = "live.example.org") => crossOriginRefusal({ secFetchSite, origin, host }, pub);
  assert.equal(r("same-origin", "https://live.example.org"), undefined);
  assert.equal(r("same-origin", "null"), undefined, "the browser's own verdict wins over an Origin hidden by a referrer policy");
  assert.equal(r(undefined, "https://live.example.org"), undefined);
  assert.equal(r(undefined, "http://127.0.0.1:8080", "127.0.0.1:8080"), undefined, "Host as the client addressed it");
  assert.equal(r(undefined, undefined), undefined, "no browser: no cookie of a victim either");
  assert.match(r("cross-site")!, /Sec-Fetch-Site: cross-site/);
  assert.match(r("same-site", "https://live.example.org")!, /same-site/, "a sibling subdomain is not the operator's page");
  assert.match(r("none")!, /none/);
  assert.match(r(undefined, "https://evil.example")!, /Origin: https:\/\/evil.example/);
  assert.match(r(undefined, "https://live.example.org:444")!, /Origin/, "another port");
  assert.match(r(undefined, "null")!, /Origin: null/);
});
