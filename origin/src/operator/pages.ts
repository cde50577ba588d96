// Server-rendered operator pages: login, disabled, and a figures table. Every value goes
// through esc(); the pages carry no script.
import type { OperatorOverview, OperatorStreamFigures } from "../wire/index.js";

const esc = (v: unknown) =>
  String(v).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;background:#111;color:#eee}
table{border-collapse:collapse;margin-top:12px}td,th{border-bottom:1px solid #333;padding:6px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}input,button{font:inherit;padding:6px 10px}.error{color:#f66}code{background:#222;padding:2px 4px}`;

const page = (title: string, body: string, refreshSec?: number) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${refreshSec ? `<meta http-equiv="refresh" content="${refreshSec}">` : ""}
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

const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 100)} %`);
const num = (v: number | null, digits = 1) => (v === null ? "–" : v.toFixed(digits));
const kbps = (bps: number) => `${Math.round(bps / 1000)} kbit/s`;

function row(s: OperatorStreamFigures): string {
  const copies = Object.entries(s.copiesPerSegment).map(([r, v]) => `${esc(r)}: ${num(v, 2)}`).join(", ") || "–";
  const cells = [
    s.name, s.state, s.viewers, pct(s.shareFromPeers), kbps(s.egressBps), kbps(s.savedBps), copies,
    s.trackerPeers ?? "–", `${num(s.startupMedianSec)} / ${num(s.startupP95Sec)} s`, pct(s.stallRatio),
    `${num(s.latencyMedianSec)} s`, s.rejectedSegments,
    `${kbps(s.ingest.bitrateBps)}, ${num(s.ingest.fps, 0)} fps, ${s.ingest.transcodeSpeed === null ? "–" : `${num(s.ingest.transcodeSpeed, 2)}x`}`,
    `${s.ingest.reconnects} / ${s.ingest.ffmpegRestarts}`,
    s.keys.map((k) => `${k.fingerprint}${k.label ? ` (${k.label})` : ""}`).join(", ") || "none",
  ];
  return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
}

export function dashboardPage(o: OperatorOverview, canLogout: boolean): string {
  const head = ["stream", "state", "viewers", "from peers", "origin egress", "saved", "copies / segment", "tracker peers",
    "startup median / p95", "stall ratio", "latency median", "rejected segments", "ingest", "reconnects / ffmpeg restarts", "keys"];
  const empty = `<p>No stream yet. In OBS (Settings &gt; Stream, Service: Custom) set Server to <code>${esc(o.rtmpUrl)}</code>
and Stream Key to a key from the keys file (<code>data/keys.json</code> by default).</p>`;
  const table = `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${o.streams.map(row).join("")}</table>`;
  const logout = canLogout ? `<form method="post" action="/dashboard/logout"><button type="submit">Log out</button></form>` : "";
  return page("Peercast dashboard", `<h1>Peercast</h1>${logout}${o.streams.length ? table : empty}
<p>Figures over the last minute (copies, stalls, latency: 5 minutes; startup, rejections: the hour); this page refreshes every 5 s.</p>`, 5);
}
