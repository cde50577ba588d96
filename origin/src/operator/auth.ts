// Who may see operator figures and act: whoever proves the operator token once (a login form)
// and then carries an HttpOnly, SameSite=Strict cookie with a random session id. Sessions live
// on the server only: they expire, logout ends them, and a stolen cookie dies with its session.
// The token itself never travels in a URL or a cookie.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";

export const SESSION_COOKIE = "peercast_operator";

const digest = (s: string) => createHash("sha256").update(s).digest();

export interface OperatorAuthOptions {
  token: string;
  /** A session ends this long after login, used or not. */
  sessionTtlMs: number;
  /** Logins beyond this end the oldest session (a bound on memory, not a policy). */
  maxSessions: number;
  now?: () => number;
}

export class OperatorAuth {
  private readonly tokenDigest: Buffer;
  /** SHA-256 of the session id -> expiry (ms). Lookups by hash: the id is never compared. */
  private readonly sessions = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: OperatorAuthOptions) {
    this.tokenDigest = digest(o.token);
    this.now = o.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.o.sessionTtlMs;
  }

  /** Constant-time check of a submitted token. */
  tokenMatches(given: string): boolean {
    return timingSafeEqual(digest(given), this.tokenDigest);
  }

  /** A new session; its id goes into the cookie and nowhere else. */
  startSession(): string {
    this.prune();
    while (this.sessions.size >= this.o.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(this.key(id), this.now() + this.o.sessionTtlMs);
    return id;
  }

  endSession(c: Context): void {
    const id = getCookie(c, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(this.key(id));
  }

  isOperator(c: Context): boolean {
    const id = getCookie(c, SESSION_COOKIE);
    if (id === undefined) return false;
    const expires = this.sessions.get(this.key(id));
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(this.key(id));
      return false;
    }
    return true;
  }

  get sessionCount(): number {
    this.prune();
    return this.sessions.size;
  }

  private key(id: string): string {
    return digest(id).toString("base64");
  }

  private prune(): void {
    const now = this.now();
    for (const [k, expires] of this.sessions) if (expires <= now) this.sessions.delete(k);
  }
}
