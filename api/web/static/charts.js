// Charts drawn as SVG by hand: a line chart for time series and bars for histograms. Colours
// come from CSS classes (series-0, series-1, ...), so light and dark themes restyle them.

import { dateText, formatNumber, svg } from "./dom.js";

const H = 190;
const PAD = { left: 44, right: 12, top: 10, bottom: 22 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 4, 5, 10]) if (v <= step * power) return step * power;
  return 10 * power;
}

/** [bottom, top] covering low..high in 4 steps of 1, 2, 2.5 or 5 times a power of ten, so the
 *  grid lines fall on round prices (545, 546, ...), not on 544.95, 545.98, ... */
function roundRange(low, high) {
  const power = 10 ** Math.floor(Math.log10((high - low) / 4));
  for (const m of [1, 2, 2.5, 5, 10, 20]) {
    const step = m * power;
    const bottom = Math.floor(low / step) * step;
    if (bottom + 4 * step >= high) return [bottom, bottom + 4 * step];
  }
  return [low, high];
}

function axis(W, yMin, yMax, unit) {
  const parts = [];
  for (let i = 0; i <= 4; i += 1) {
    const value = yMin + ((yMax - yMin) * i) / 4;
    const y = PAD.top + (H - PAD.top - PAD.bottom) * (1 - i / 4);
    parts.push(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
    parts.push(svg("text", { x: PAD.left - 6, y: y + 4, class: "tick", "text-anchor": "end" },
      `${formatNumber(value, 5)}${unit}`));
  }
  return parts;
}

/**
 * Time series: `series` is [{name, points: [[t seconds, value], ...]}]; the x axis spans
 * `windowSeconds` up to the newest point. Returns an <svg> to put in the page.
 */
export function lineChart(series, { unit = "", yMax, windowSeconds = 300, label, fitRange = false, width = 600 } = {}) {
  // Drawn at the size it is shown, so labels keep their size on a phone and on a wide screen.
  const W = width > 0 ? Math.max(260, Math.round(width)) : 600;
  const all = series.flatMap((s) => s.points);
  const values = all.map((p) => p[1]).filter((v) => v !== null && v !== undefined);
  const newest = all.length ? Math.max(...all.map((p) => p[0])) : Date.now() / 1000;
  const oldest = newest - windowSeconds;
  let bottom = 0;
  let top = yMax ?? niceMax(Math.max(0, ...values) * 1.1);
  if (fitRange && values.length) {
    // Prices: the interesting part is the movement, not the distance from zero.
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = Math.max((high - low) * 0.05, Math.abs(high) * 0.0005, 1e-9);
    [bottom, top] = roundRange(low - pad, high + pad);
  }
  const x = (t) => PAD.left + ((t - oldest) / windowSeconds) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - (Math.min(v, top) - bottom) / (top - bottom));
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  chart.append(...axis(W, bottom, top, unit));
  chart.append(svg("text", { x: W - PAD.right, y: H - 6, class: "tick", "text-anchor": "end" }, "now"));
  chart.append(svg("text", { x: PAD.left, y: H - 6, class: "tick" }, windowSeconds < 120 ? `−${Math.round(windowSeconds)} s` : `−${Math.round(windowSeconds / 60)} min`));
  series.forEach((s, i) => {
    const points = s.points.filter((p) => p[0] >= oldest && p[1] !== null && p[1] !== undefined);
    if (!points.length) return;
    const d = points.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    chart.append(svg("path", { d, class: `line series-${i % 6}`, "data-points": points.length }));
    const last = points[points.length - 1];
    chart.append(svg("circle", { cx: x(last[0]), cy: y(last[1]), r: 3, class: `dot series-${i % 6}` }));
  });
  return chart;
}

/** A histogram from a profile result: `edges` (n + 1 numbers) and `counts` (n). */
// A histogram's edges are numbers, or a datetime column's ISO 8601 text.
const edge = (value) => formatNumber(dateText(value));

/** A legend's key for series `i`: a short stretch of its line, dashed as the chart draws it. */
export function lineSwatch(i) {
  const key = svg("svg", { class: "swatch", width: 22, height: 10, viewBox: "0 0 22 10", "aria-hidden": "true" });
  key.append(svg("line", { x1: 1, x2: 21, y1: 5, y2: 5, class: `line series-${i % 6}` }));
  return key;
}

export function histogram({ edges, counts }, label) {
  const w = 300;
  const h = 110;
  const base = h - 18;
  const peak = Math.max(1, ...counts);
  const width = (w - 8) / Math.max(1, counts.length);
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, class: "histogram", role: "img", "aria-label": label });
  counts.forEach((count, i) => {
    const barHeight = (count / peak) * (base - 6);
    const bar = svg("rect", {
      x: 4 + i * width + 1, y: base - barHeight, width: Math.max(1, width - 2), height: barHeight, rx: 1.5,
    });
    bar.append(svg("title", {}, `${edge(edges[i])} – ${edge(edges[i + 1])}: ${count.toLocaleString("en-US")}`));
    chart.append(bar);
  });
  chart.append(svg("line", { x1: 4, x2: w - 4, y1: base, y2: base, class: "grid" }));
  chart.append(svg("text", { x: 4, y: h - 4, class: "tick" }, edge(edges[0])));
  chart.append(svg("text", { x: w - 4, y: h - 4, class: "tick", "text-anchor": "end" }, edge(edges[edges.length - 1])));
  return chart;
}
