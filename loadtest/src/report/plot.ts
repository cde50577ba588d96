// The report's plot: share from peers and origin egress over time, P2P beside HTTP-only, as a
// self-contained SVG (no fonts or scripts to fetch).
import type { PhaseResult } from "./phase-figures.js";

const W = 760;
const H = 220;
const M = { left: 56, right: 150, top: 28, bottom: 34 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

interface Series {
  name: string;
  points: [number, number][];
  dashed: boolean;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function chart(title: string, unit: string, series: Series[], yMax: number, top: number, xMax: number): string {
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const x = (t: number) => M.left + (t / xMax) * iw;
  const y = (v: number) => top + M.top + ih - (v / yMax) * ih;
  const out: string[] = [`<text x="${M.left}" y="${top + 18}" font-size="13" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(`<line x1="${M.left}" x2="${M.left + iw}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${+v.toFixed(2)}${unit}</text>`);
  }
  const step = xMax > 300 ? 60 : xMax > 120 ? 30 : 10;
  for (let t = 0; t <= xMax; t += step) out.push(`<text x="${x(t)}" y="${top + M.top + ih + 16}" font-size="11" text-anchor="middle">${t} s</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map(([t, v], j) => `${j ? "L" : "M"}${x(t).toFixed(1)},${y(Math.min(v, yMax)).toFixed(1)}`).join("");
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    const ly = top + M.top + 12 + i * 16;
    out.push(
      `<line x1="${W - M.right + 10}" x2="${W - M.right + 34}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
    out.push(`<text x="${W - M.right + 40}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join("\n");
}

/** Both charts for a set of phases (normally one scenario and mode: P2P and HTTP-only rounds). */
export function plotSvg(title: string, phases: PhaseResult[]): string {
  const xMax = Math.max(10, ...phases.flatMap((p) => p.timeline.map((t) => t.tSec)));
  const name = (p: PhaseResult) => `${p.spec.transport === "p2p" ? "P2P" : "HTTP-only"}${phases.length > 2 ? ` r${p.spec.round}` : ""}`;
  const share: Series[] = phases.map((p) => ({
    name: name(p),
    dashed: p.spec.transport === "http",
    points: p.timeline.flatMap((t) => (t.shareFromPeers === null ? [] : [[t.tSec, 100 * t.shareFromPeers] as [number, number]])),
  }));
  const egress: Series[] = phases.map((p) => ({
    name: name(p),
    dashed: p.spec.transport === "http",
    points: p.timeline.map((t) => [t.tSec, t.originEgressMbps]),
  }));
  const egressMax = Math.max(0.1, ...egress.flatMap((s) => s.points.map(([, v]) => v))) * 1.1;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H + 30}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${M.left}" y="18" font-size="15" font-weight="bold">${esc(title)}</text>`,
    chart("Share of segment bytes from peers", " %", share, 100, 20, xMax),
    chart("Origin egress", " Mb/s", egress, egressMax, 20 + H, xMax),
    "</svg>",
  ].join("\n");
}
