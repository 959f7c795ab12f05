// Charts, drawn by the vendored uPlot (MIT; assets/vendor/uplot/LICENSE).
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";

const SCAN = "#1f4e79";
const SNAPSHOT = "#b35900";

function seconds(iso) {
  return Math.floor(new Date(iso).getTime() / 1000);
}

function scoreOf(p, framework) {
  return framework ? p.score : p.overall_score;
}

/** A small trend line without axes, for the overview; `points` as the trend endpoint gives them. */
export function sparkline(points, label) {
  const values = points.map((p) => p.overall_score).filter((v) => v !== null && v !== undefined);
  const text = values.length ? `${label}: ${values.length} points, from ${values[0]} to ${values[values.length - 1]}` : `${label}: no points yet`;
  const box = h("div", { class: "sparkline", role: "img", "aria-label": text });
  if (values.length === 0) {
    box.append(h("span", { class: "muted" }, "no trend yet"));
    return box;
  }
  const xs = points.map((p) => seconds(p.at));
  const ys = points.map((p) => p.overall_score);
  const opts = {
    width: 160,
    height: 40,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: { x: { time: false }, y: { range: [0, 100] } },
    series: [{}, { stroke: SCAN, width: 2, points: { show: values.length < 3, size: 5, fill: SCAN } }],
  };
  // Draws once it is in the document (uPlot measures nothing, but needs the canvas attached).
  queueMicrotask(() => new uPlot(opts, [xs, ys], box));
  return box;
}

/**
 * The repository's trend: one line through every point, scan points as filled circles and daily
 * snapshot points as hollow diamonds-like markers in another colour, plus the same data as a table.
 */
export function trendChart(unsorted, { framework, width }) {
  // uPlot needs ascending x; the points come oldest first by day, not always by instant.
  const points = [...unsorted].sort((a, b) => seconds(a.at) - seconds(b.at));
  const name = framework ? `${framework} score` : "Overall score";
  const xs = points.map((p) => seconds(p.at));
  const all = points.map((p) => scoreOf(p, framework));
  const scans = points.map((p) => (p.source === "scan" ? scoreOf(p, framework) : null));
  const snapshots = points.map((p) => (p.source === "snapshot" ? scoreOf(p, framework) : null));
  const holder = h("div", {
    class: "chart",
    role: "img",
    "aria-label": `${name} over time: ${points.length} points (${scans.filter((v) => v !== null).length} from scans, ${snapshots.filter((v) => v !== null).length} daily snapshots)`,
    dataset: { points: String(points.length) },
  });
  const opts = {
    width: Math.max(320, width || 800),
    height: 300,
    scales: { y: { range: [0, 100] } },
    axes: [{ stroke: "#1b1f24" }, { stroke: "#1b1f24", label: "score" }],
    series: [
      {},
      { label: name, stroke: "#8a94a6", width: 1.5, points: { show: false } },
      // Snapshots first, as a wide ring, so a scan on the same day stays visible inside it.
      { label: "Daily snapshot", stroke: SNAPSHOT, paths: () => null, points: { show: true, size: 16, width: 3, fill: "#ffffff", stroke: SNAPSHOT } },
      { label: "Scan", stroke: SCAN, paths: () => null, points: { show: true, size: 8, fill: SCAN, stroke: SCAN } },
    ],
  };
  queueMicrotask(() => {
    holder.uplot = new uPlot(opts, [xs, all, snapshots, scans], holder);
  });
  return holder;
}

export function trendLegend() {
  return h(
    "p",
    { class: "muted" },
    h("span", { class: "legend-key" }, h("span", { class: "swatch swatch-scan", "aria-hidden": "true" }), "scan (filled dot)"),
    h("span", { class: "legend-key" }, h("span", { class: "swatch swatch-snapshot", "aria-hidden": "true" }), "daily snapshot (ring)"),
  );
}
