// The operator dashboard: every stream's figures, refreshed every few seconds without a
// reload, with the last hour charted, and the key and publisher actions.
import type { OperatorOverview, OperatorStreamFigures } from "@peercast/origin/wire";
import { StreamCharts } from "./charts.js";
import { kbps, num, pct } from "./format.js";

const REFRESH_MS = 3000;
const root = document.getElementById("dashboard")!;
const charts = new Map<string, StreamCharts>();

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { "Content-Type": "application/json" }, cache: "no-store" });
  if (res.status === 401) location.reload(); // session gone: back to the login form
  return res;
}

const COLUMNS: [string, (s: OperatorStreamFigures) => string][] = [
  ["stream", (s) => s.name],
  ["state", (s) => s.state],
  ["viewers", (s) => String(s.viewers)],
  ["from peers", (s) => pct(s.shareFromPeers)],
  ["origin egress", (s) => kbps(s.egressBps)],
  ["saved", (s) => kbps(s.savedBps)],
  ["copies / segment", (s) => Object.entries(s.copiesPerSegment).map(([r, v]) => `${r} ${num(v, 2)}`).join(", ") || "–"],
  ["tracker peers", (s) => (s.trackerPeers === null ? "–" : String(s.trackerPeers))],
  ["startup median / p95", (s) => `${num(s.startupMedianSec)} / ${num(s.startupP95Sec)} s`],
  ["stall ratio", (s) => pct(s.stallRatio)],
  ["latency median", (s) => `${num(s.latencyMedianSec)} s`],
  ["rejected segments", (s) => String(s.rejectedSegments)],
  ["ingest", (s) => `${kbps(s.ingest.bitrateBps)}, ${num(s.ingest.fps, 0)} fps, ${s.ingest.transcodeSpeed === null ? "–" : `${num(s.ingest.transcodeSpeed, 2)}x`}`],
  ["reconnects / ffmpeg restarts", (s) => `${s.ingest.reconnects} / ${s.ingest.ffmpegRestarts}`],
];

function table(streams: OperatorStreamFigures[]): HTMLTableElement {
  const t = el("table", undefined, { id: "streams" });
  const head = t.createTHead().insertRow();
  for (const [name] of COLUMNS) head.append(el("th", name));
  for (const s of streams) {
    const row = t.insertRow();
    row.dataset.stream = s.name;
    for (const [name, value] of COLUMNS) row.append(el("td", value(s), { "data-figure": name }));
  }
  return t;
}

function streamSection(s: OperatorStreamFigures, history: OperatorOverview["history"][string]): HTMLElement {
  const section = el("section", undefined, { class: "stream", "data-stream": s.name });
  section.append(el("h2", s.name));
  const plots = el("div", undefined, { class: "charts" });
  section.append(plots);
  let c = charts.get(s.name);
  // uPlot draws into its own element: keep it across refreshes, just move it.
  if (!c) charts.set(s.name, (c = new StreamCharts(el("div"))));
  c.update(history);
  plots.append(c.element);
  const actions = el("div", undefined, { class: "actions" });
  if (s.state === "live" || s.state === "reconnecting") {
    const cut = el("button", "Disconnect publisher", { type: "button" });
    cut.addEventListener("click", () => void api(`/api/operator/streams/${s.name}/disconnect`, { method: "POST" }).then(refresh));
    actions.append(cut);
  }
  for (const k of s.keys) {
    const revoke = el("button", `Revoke ${k.fingerprint}${k.label ? ` (${k.label})` : ""}`, { type: "button" });
    revoke.addEventListener("click", () => {
      if (confirm(`Revoke ${k.fingerprint}? A publisher using it is cut and cannot come back with it.`)) {
        void api(`/api/operator/keys/${k.fingerprint.slice(4)}`, { method: "DELETE" }).then(refresh);
      }
    });
    actions.append(revoke);
  }
  section.append(actions);
  return section;
}

function addKeyForm(): HTMLFormElement {
  const form = el("form", undefined, { id: "add-key" });
  const stream = el("input", undefined, { name: "stream", placeholder: "stream name, e.g. main", pattern: "[a-z0-9_-]{1,64}", required: "" });
  const label = el("input", undefined, { name: "label", placeholder: "label (optional)", maxlength: "200" });
  const shown = el("p", undefined, { class: "new-key", hidden: "" });
  form.append(el("h2", "Add a stream key"), stream, label, el("button", "Add key", { type: "submit" }), shown);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void api("/api/operator/keys", { method: "POST", body: JSON.stringify({ stream: stream.value, ...(label.value ? { label: label.value } : {}) }) }).then(async (res) => {
      const body = (await res.json()) as { key?: string; fingerprint?: string; error?: string };
      shown.hidden = false;
      shown.textContent = body.key ? `New key for ${stream.value} (shown this once, copy it now): ${body.key}` : `Not added: ${body.error}`;
      void refresh();
    });
  });
  return form;
}

// Outside the refreshed part: typing in it survives the refreshes.
document.getElementById("add-key-slot")?.append(addKeyForm());

function render(o: OperatorOverview): void {
  const parts: HTMLElement[] = [];
  if (!o.streams.some((s) => s.state !== "offline")) {
    const empty = el("div", undefined, { class: "empty" });
    empty.append(
      el("p", "No stream is live. In OBS, Settings > Stream, Service: Custom:"),
      el("p", `Server: ${o.rtmpUrl}`),
      el("p", "Stream Key: a key from the keys file (data/keys.json by default), or add one below."),
    );
    parts.push(empty);
  }
  if (o.streams.length) parts.push(table(o.streams), ...o.streams.map((s) => streamSection(s, o.history[s.name] ?? [])));
  root.replaceChildren(...parts);
}

async function refresh(): Promise<void> {
  try {
    const res = await api("/api/operator/overview");
    if (res.ok) render((await res.json()) as OperatorOverview);
  } catch {
    /* the next refresh tries again */
  }
}

void refresh();
setInterval(() => void refresh(), REFRESH_MS);
