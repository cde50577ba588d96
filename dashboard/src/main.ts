// The operator dashboard: the whole server's headline figures (what P2P saves, how viewers
// fare), then every stream's figures and last hour charted, refreshed every few seconds without
// a reload, with the key and publisher actions. Fits a phone and a laptop without sideways scrolling.
import type { OperatorOverview, OperatorStreamFigures } from "@peercast/origin/wire";
import { StreamCharts } from "./charts.js";
import { kbps, num, pct } from "./format.js";

const REFRESH_MS = 3000;
const root = document.getElementById("dashboard")!;
const charts = new Map<string, StreamCharts>();
/** Offline streams the operator unfolded: they stay so across refreshes. */
const unfolded = new Set<string>();

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

/** One figure: a label and its value; `data-figure` names it for tests and styles. */
function figure(name: string, value: string, note?: string): HTMLElement {
  const box = el("div", undefined, { class: "figure", "data-figure": name });
  box.append(el("dt", name), el("dd", value));
  if (note) box.append(el("dd", note, { class: "note" }));
  return box;
}

const copiesText = (copies: Record<string, number | null>) =>
  Object.entries(copies)
    .map(([r, v]) => `${r} ${num(v, 2)}`)
    .join(", ") || "–";

/** What the operator asks first: how much P2P saves, and whether viewers are fine. */
function headline(t: OperatorOverview["totals"]): HTMLElement {
  const box = el("dl", undefined, { id: "headline", class: "headline" });
  box.append(
    figure("viewers", String(t.viewers), `${t.liveStreams} live stream${t.liveStreams === 1 ? "" : "s"}`),
    figure("from peers", pct(t.shareFromPeers), "of the video viewers received"),
    figure("origin egress", kbps(t.egressBps), `peers delivered ${kbps(t.savedBps)} more`),
    figure("copies / segment", num(t.copiesPerSegment, 2), "origin sends per segment (1 = one copy for all)"),
    figure("stall ratio", pct(t.stallRatio), "of playing time, last 5 min"),
    figure("latency", t.latencyMedianSec === null ? "–" : `${num(t.latencyMedianSec)} s`, "median, camera to screen"),
  );
  return box;
}

function actions(s: OperatorStreamFigures): HTMLElement {
  const box = el("div", undefined, { class: "actions" });
  if (s.state === "live" || s.state === "reconnecting") {
    const cut = el("button", "Disconnect publisher", { type: "button" });
    cut.addEventListener("click", () => void api(`/api/operator/streams/${s.name}/disconnect`, { method: "POST" }).then(refresh));
    box.append(cut);
  }
  for (const k of s.keys) {
    const revoke = el("button", `Revoke ${k.fingerprint}${k.label ? ` (${k.label})` : ""}`, { type: "button" });
    revoke.addEventListener("click", () => {
      if (confirm(`Revoke ${k.fingerprint}? A publisher using it is cut and cannot come back with it.`)) {
        void api(`/api/operator/keys/${k.fingerprint.slice(4)}`, { method: "DELETE" }).then(refresh);
      }
    });
    box.append(revoke);
  }
  return box;
}

/** A stream that is on: its figures, its last hour charted, its actions. */
function liveCard(s: OperatorStreamFigures, history: OperatorOverview["history"][string]): HTMLElement {
  const card = el("article", undefined, { class: "stream", "data-stream": s.name });
  const title = el("h2", s.name);
  title.append(el("span", s.state, { class: `state state-${s.state}` }));
  const figures = el("dl", undefined, { class: "figures" });
  figures.append(
    figure("viewers", String(s.viewers)),
    figure("from peers", pct(s.shareFromPeers)),
    figure("origin egress", kbps(s.egressBps)),
    figure("saved", kbps(s.savedBps)),
    figure("copies / segment", copiesText(s.copiesPerSegment)),
    figure("tracker peers", s.trackerPeers === null ? "–" : String(s.trackerPeers)),
    figure("startup median / p95", `${num(s.startupMedianSec)} / ${num(s.startupP95Sec)} s`),
    figure("stall ratio", pct(s.stallRatio)),
    figure("latency median", `${num(s.latencyMedianSec)} s`),
    figure("rejected segments", String(s.rejectedSegments)),
    figure(
      "ingest",
      `${kbps(s.ingest.bitrateBps)}, ${num(s.ingest.fps, 0)} fps, ${s.ingest.transcodeSpeed === null ? "–" : `${num(s.ingest.transcodeSpeed, 2)}x`}`,
    ),
    figure("reconnects / ffmpeg restarts", `${s.ingest.reconnects} / ${s.ingest.ffmpegRestarts}`),
  );
  let c = charts.get(s.name);
  // uPlot draws into its own elements: keep them across refreshes, just move them.
  if (!c) charts.set(s.name, (c = new StreamCharts(chartWidth())));
  c.update(history);
  card.append(title, figures, c.element, actions(s));
  return card;
}

/** An offline stream: one line, its keys' actions folded away. */
function offlineRow(s: OperatorStreamFigures): HTMLElement {
  const row = el("details", undefined, { class: "stream offline", "data-stream": s.name });
  row.open = unfolded.has(s.name);
  row.addEventListener("toggle", () => (row.open ? unfolded.add(s.name) : unfolded.delete(s.name)));
  const summary = el("summary");
  summary.append(
    el("span", s.name, { class: "name" }),
    el("span", s.state, { class: `state state-${s.state}` }),
    el("span", `${s.keys.length} key${s.keys.length === 1 ? "" : "s"}`, { class: "note" }),
  );
  row.append(summary, actions(s));
  return row;
}

/** The width one chart gets: two side by side where the page allows, one on a phone. */
function chartWidth(): number {
  const page = root.clientWidth || window.innerWidth;
  return page >= 900 ? (page - 64) / 2 : page - 32;
}

window.addEventListener("resize", () => {
  for (const c of charts.values()) c.resize(chartWidth());
});

function addKeyForm(): HTMLFormElement {
  const form = el("form", undefined, { id: "add-key" });
  const stream = el("input", undefined, { name: "stream", placeholder: "stream name, e.g. main", pattern: "[a-z0-9_-]{1,64}", required: "" });
  const label = el("input", undefined, { name: "label", placeholder: "label (optional)", maxlength: "200" });
  const shown = el("p", undefined, { class: "new-key", hidden: "" });
  form.append(el("h2", "Add a stream key"), stream, label, el("button", "Add key", { type: "submit" }), shown);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void api("/api/operator/keys", { method: "POST", body: JSON.stringify({ stream: stream.value, ...(label.value ? { label: label.value } : {}) }) }).then(
      async (res) => {
        const body = (await res.json()) as { key?: string; fingerprint?: string; error?: string };
        shown.hidden = false;
        shown.textContent = body.key ? `New key for ${stream.value} (shown this once, copy it now): ${body.key}` : `Not added: ${body.error}`;
        void refresh();
      },
    );
  });
  return form;
}

// Outside the refreshed part: typing in it survives the refreshes.
document.getElementById("add-key-slot")?.append(addKeyForm());

function render(o: OperatorOverview): void {
  const parts: HTMLElement[] = [headline(o.totals)];
  if (!o.streams.some((s) => s.state !== "offline")) {
    const empty = el("div", undefined, { class: "empty" });
    empty.append(
      el("p", "No stream is live. In OBS, Settings > Stream, Service: Custom:"),
      el("p", `Server: ${o.rtmpUrl}`),
      el("p", "Stream Key: a key from the keys file (data/keys.json by default), or add one below."),
    );
    parts.push(empty);
  }
  const on = o.streams.filter((s) => s.state !== "offline");
  const off = o.streams.filter((s) => s.state === "offline");
  const list = el("section", undefined, { id: "streams" });
  list.append(...on.map((s) => liveCard(s, o.history[s.name] ?? [])), ...off.map(offlineRow));
  parts.push(list);
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
