// Server-rendered operator page: the login form. Every value goes
// through esc(); the pages carry no script.

const esc = (v: unknown) => String(v).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;background:#111;color:#eee}
input,button{font:inherit;padding:6px 10px}.error{color:#f66}code{background:#222;padding:2px 4px}`;

const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="/player/favicon.svg" type="image/svg+xml"><style>${STYLE}</style></head><body>${body}</body></html>`;

export function loginPage(tokenFile: string | undefined, error?: string): string {
  // Where, without the full path (this page answers anyone): the log has that.
  const where = tokenFile
    ? `The token is in the file <code>${esc(tokenFile.split(/[\\/]/).pop())}</code> in the origin's data directory (<code>PEERCAST_DATA_DIR</code>; the origin's log names it).`
    : "The token is the origin's <code>PEERCAST_OPERATOR_TOKEN</code>.";
  return page(
    "Peercast operator login",
    `<h1>Operator login</h1>${error ? `<p class="error">${esc(error)}</p>` : ""}
<form method="post" action="/dashboard/login"><label>Operator token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form><p>${where}</p>`,
  );
}
