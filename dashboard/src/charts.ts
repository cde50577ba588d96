// The last hour of one stream in small uPlot charts, updated in place every refresh: what P2P
// saves (copies per segment, egress beside what peers delivered) and how viewers fare (stalls,
// latency). Legends are plain HTML under each chart: uPlot's own shows "--" values until hovered.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { OperatorHistoryPoint } from "@peercast/origin/wire";

const HEIGHT = 150;
/** Widest a chart gets; narrower where the page is (a phone). */
const MAX_WIDTH = 420;

interface Series {
  label: string;
  stroke: string;
  value: (p: OperatorHistoryPoint) => number | null;
  /** Series of another unit get a scale of their own, with its axis on the right. */
  scale?: string;
}

class Chart {
  readonly element: HTMLElement;
  private readonly plot: uPlot;

  constructor(
    title: string,
    private readonly series: Series[],
    width: number,
  ) {
    this.element = document.createElement("figure");
    this.element.className = "chart";
    const scales = [...new Set(series.map((s) => s.scale ?? "y"))];
    const opts: uPlot.Options = {
      title,
      width,
      height: HEIGHT,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, scale: s.scale ?? "y" }))],
      axes: [{ stroke: "#aaa" }, ...scales.map((scale, i) => ({ scale, stroke: "#aaa", size: 48, side: i === 0 ? 3 : 1, grid: { show: i === 0 } }))],
      legend: { show: false },
      cursor: { show: false },
    };
    this.plot = new uPlot(opts, [[], ...series.map(() => [])], this.element);
    const legend = document.createElement("figcaption");
    for (const s of series) {
      const item = document.createElement("span");
      item.className = "legend-item";
      item.style.setProperty("--swatch", s.stroke);
      item.textContent = s.label;
      legend.append(item);
    }
    this.element.append(legend);
  }

  update(points: OperatorHistoryPoint[]): void {
    this.plot.setData([points.map((p) => p.at / 1000), ...this.series.map((s) => points.map(s.value))]);
  }

  resize(width: number): void {
    this.plot.setSize({ width, height: HEIGHT });
  }
}

const orNull = (v: number | null, scale = 1) => (v === null ? null : v * scale);

export class StreamCharts {
  readonly element: HTMLElement;
  private readonly charts: Chart[];

  constructor(width: number) {
    this.element = document.createElement("div");
    this.element.className = "charts";
    const w = StreamCharts.width(width);
    this.charts = [
      new Chart(
        "Origin copies per segment (1 = one copy for everyone)",
        [{ label: "copies per segment", stroke: "#ffb74d", value: (p) => p.copiesPerSegment }],
        w,
      ),
      new Chart(
        "Origin egress and what peers delivered (kbit/s)",
        [
          { label: "origin egress", stroke: "#e57373", value: (p) => p.egressBps / 1000 },
          { label: "from peers", stroke: "#81c784", value: (p) => p.savedBps / 1000 },
        ],
        w,
      ),
      new Chart(
        "Share from peers (%) and viewers",
        [
          { label: "from peers % (left)", stroke: "#81c784", value: (p) => orNull(p.shareFromPeers, 100) },
          { label: "viewers (right)", stroke: "#4fc3f7", value: (p) => p.viewers, scale: "viewers" },
        ],
        w,
      ),
      new Chart(
        "Viewers' experience",
        [
          { label: "stalled % of playing time (left)", stroke: "#e57373", value: (p) => orNull(p.stallRatio, 100) },
          { label: "latency median, s (right)", stroke: "#ba68c8", value: (p) => p.latencyMedianSec, scale: "s" },
        ],
        w,
      ),
    ];
    this.element.append(...this.charts.map((c) => c.element));
  }

  /** A chart's width in a container `available` pixels wide. */
  static width(available: number): number {
    return Math.max(200, Math.min(MAX_WIDTH, Math.floor(available)));
  }

  update(points: OperatorHistoryPoint[]): void {
    for (const c of this.charts) c.update(points);
  }

  resize(available: number): void {
    for (const c of this.charts) c.resize(StreamCharts.width(available));
  }
}
