// State-changing operator requests must come from the operator's own pages. SameSite=Strict
// keeps the cookie off cross-site requests, but not off a same-site sibling (another port or
// subdomain), and hono's csrf() looks only at form content types: a JSON POST slipped through.
// Browsers send Origin with every POST/DELETE, and Sec-Fetch-Site (which a page cannot forge)
// on secure contexts; a request with neither is not from a browser page, so it cannot carry a
// victim's cookie (it still needs a session of its own).

export interface RequestOrigin {
  secFetchSite: string | undefined;
  origin: string | undefined;
  /** The Host the client addressed (a reverse proxy passes it on). */
  host: string | undefined;
}

/** Why a state-changing request is refused, or undefined when it may go on. */
export function crossOriginRefusal(r: RequestOrigin, publicUrl: string): string | undefined {
  if (r.secFetchSite !== undefined) return r.secFetchSite === "same-origin" ? undefined : `cross-origin request (Sec-Fetch-Site: ${r.secFetchSite})`;
  if (r.origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(r.origin).host;
  } catch {
    return `cross-origin request (Origin: ${r.origin.slice(0, 100)})`;
  }
  // The scheme is not compared: a TLS-terminating proxy talks plain HTTP to the origin.
  const ours = new Set([new URL(publicUrl).host, r.host?.toLowerCase()]);
  return ours.has(host) ? undefined : `cross-origin request (Origin: ${r.origin.slice(0, 100)})`;
}
