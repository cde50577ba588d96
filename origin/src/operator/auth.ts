// Who may see operator figures and act: whoever proves the operator token once (a login form)
// and then carries an HttpOnly, SameSite=Strict cookie derived from it. The token itself never
// travels in a URL or a cookie.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";

export const SESSION_COOKIE = "peercast_operator";

/** open: no token, listening on loopback only; disabled: no token on a public address. */
export type AuthMode = "token" | "open" | "disabled";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function authMode(token: string | undefined, httpHost: string): AuthMode {
  if (token) return "token";
  return LOOPBACK.has(httpHost) ? "open" : "disabled";
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export class OperatorAuth {
  readonly mode: AuthMode;
  private readonly session: Buffer | undefined;

  constructor(private readonly token: string | undefined, httpHost: string) {
    this.mode = authMode(token, httpHost);
    // Changing the token logs every operator out; a restart does not.
    this.session = token ? createHmac("sha256", token).update("peercast operator session v1").digest() : undefined;
  }

  /** The cookie value a successful login sets. */
  sessionValue(): string {
    return this.session!.toString("base64url");
  }

  /** Constant-time check of a submitted token. */
  tokenMatches(given: string): boolean {
    return this.token !== undefined && timingSafeEqual(digest(given), digest(this.token));
  }

  isOperator(c: Context): boolean {
    if (this.mode === "open") return true;
    if (this.mode === "disabled") return false;
    const cookie = getCookie(c, SESSION_COOKIE);
    return cookie !== undefined && timingSafeEqual(digest(cookie), digest(this.sessionValue()));
  }
}
