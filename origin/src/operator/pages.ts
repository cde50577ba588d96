// Server-rendered operator pages: login, and why the dashboard is off. Every value goes
// through esc(); the pages carry no script.

const esc = (v: unknown) =>
  String(v).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;background:#111;color:#eee}
input,button{font:inherit;padding:6px 10px}.error{color:#f66}code{background:#222;padding:2px 4px}`;

const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;

export function loginPage(error?: string): string {
  return page("Peercast operator login", `<h1>Operator login</h1>${error ? `<p class="error">${esc(error)}</p>` : ""}
<form method="post" action="/dashboard/login"><label>Operator token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form>`);
}

export function disabledPage(): string {
  return page("Peercast dashboard disabled", `<h1>Dashboard disabled</h1>
<p>The origin listens on a public address and no operator token is configured, so the dashboard stays off rather than open to anyone.
Set <code>PEERCAST_OPERATOR_TOKEN</code> (16 or more characters) and restart the origin.</p>`);
}
