// The last hour of one stream in three small uPlot charts, updated in place every refresh.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { OperatorHistoryPoint } from "@peercast/origin/wire";

const WIDTH = 360;
const HEIGHT = 160;

function chart(parent: HTMLElement, title: string, series: { label: string; stroke: string }[]): uPlot {
  const opts: uPlot.Options = {
    title,
    width: WIDTH,
    height: HEIGHT,
    series: [{}, ...series.map((s) => ({ ...s, width: 2 }))],
    axes: [{ stroke: "#aaa" }, { stroke: "#aaa" }],
    legend: { show: series.length > 1 },
  };
  return new uPlot(opts, [[], ...series.map(() => [])], parent);
}

export class StreamCharts {
  readonly element: HTMLElement;
  private readonly viewers: uPlot;
  private readonly share: uPlot;
  private readonly traffic: uPlot;

  constructor(parent: HTMLElement) {
    this.element = parent;
    this.viewers = chart(parent, "Viewers", [{ label: "viewers", stroke: "#4fc3f7" }]);
    this.share = chart(parent, "Share from peers (%)", [{ label: "from peers", stroke: "#81c784" }]);
    this.traffic = chart(parent, "Origin egress and saved (kbit/s)", [
      { label: "origin egress", stroke: "#e57373" },
      { label: "saved by peers", stroke: "#81c784" },
    ]);
  }

  update(points: OperatorHistoryPoint[]): void {
    const t = points.map((p) => p.at / 1000);
    this.viewers.setData([t, points.map((p) => p.viewers)]);
    this.share.setData([t, points.map((p) => (p.shareFromPeers === null ? null : p.shareFromPeers * 100))]);
    this.traffic.setData([t, points.map((p) => p.egressBps / 1000), points.map((p) => p.savedBps / 1000)]);
  }
}
