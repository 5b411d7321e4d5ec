// Charts drawn as SVG by hand: a line chart for time series and bars for histograms. Colours
// come from CSS classes (series-0, series-1, ...), so light and dark themes restyle them.

import { dateText, decimalsOf, formatNumber, formatTime, svg } from "./dom.js";

const H = 190;
const PAD = { left: 44, right: 12, top: 10, bottom: 22 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 4, 5, 10]) if (v <= step * power) return step * power;
  return 10 * power;
}

/** [bottom, top] covering low..high in 4 steps of 1, 2, 2.5 or 5 times a power of ten, so the
 *  grid lines fall on round prices (545, 546, ...), not on 544.95, 545.98, ... Given a tick, the
 *  steps are whole ticks (10.00, 10.01, ... for 0.01), not 10.005: a price no order can have. */
function roundRange(low, high, tick) {
  const unit = tick || 1;
  let power = 10 ** Math.floor(Math.log10((high - low) / 4 / unit));
  if (tick) power = Math.max(1, power);
  for (let decade = 0; decade < 3; decade += 1, power *= 10) {
    for (const m of [1, 2, 2.5, 5]) {
      if (tick && !Number.isInteger(m * power)) continue; // 2.5 ticks
      const step = m * power * unit;
      const bottom = Math.floor(low / step) * step;
      if (bottom + 4 * step >= high) return [bottom, bottom + 4 * step];
    }
  }
  return [low, high];
}

/** A y-axis label: a price at its tick's decimals, as the tape writes it; else 5 figures. */
function valueText(value, tick) {
  if (!tick) return formatNumber(value, 5);
  const places = decimalsOf(tick);
  return value.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
}

/** The y-axis: a grid line for each of the 5 `labels` (bottom up), labelled left of `left`. */
function axis(W, left, labels) {
  return labels.flatMap((text, i) => {
    const y = PAD.top + (H - PAD.top - PAD.bottom) * (1 - i / 4);
    return [svg("line", { x1: left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }),
      svg("text", { x: left - 6, y: y + 4, class: "tick", "text-anchor": "end" }, text)];
  });
}

// Prices: the interesting part is the movement, not the distance from zero.
function fitted(values, tick) {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = Math.max((high - low) * 0.05, Math.abs(high) * 0.0005, 1e-9);
  return roundRange(low - pad, high + pad, tick && Number(tick));
}

function ago(seconds) {
  return seconds < 120 ? `−${Math.round(seconds)} s` : `−${Math.round(seconds / 60)} min`;
}

/** The top of a y-axis from 0 drawn in 4 steps. A chart of `counts` (tasks waiting, workers)
 *  tops at a multiple of 4, so each step is a whole number: not 0.25 of a worker. */
function topOf(values, yMax, counts) {
  const top = yMax ?? niceMax(Math.max(0, ...values) * 1.1);
  return counts ? Math.ceil(top / 4) * 4 : top;
}

/**
 * Time series: `series` is [{name, points: [[t seconds, value], ...]}]; the x axis spans
 * `windowSeconds` up to the newest point. Prices give their `tick` (a decimal string): the
 * y-axis is then on the tick. With `clock`, the x-axis edges say their times of day instead of
 * "now" and "−5 min" (for a chart whose newest point may be long ago). Points more than
 * `gapSeconds` apart are not joined: a line drawn across an outage showed figures never measured.
 * With `counts`, the y-axis marks whole numbers only. Returns an <svg>.
 */
export function lineChart(series, { unit = "", yMax, windowSeconds = 300, label, fitRange = false, tick, clock = false, width = 600, gapSeconds = Infinity, counts = false } = {}) {
  // Drawn at the size it is shown, so labels keep their size on a phone and on a wide screen.
  const W = width > 0 ? Math.max(260, Math.round(width)) : 600;
  const all = series.flatMap((s) => s.points);
  const values = all.map((p) => p[1]).filter((v) => v !== null && v !== undefined);
  const newest = all.length ? Math.max(...all.map((p) => p[0])) : Date.now() / 1000;
  const oldest = newest - windowSeconds;
  const [bottom, top] = fitRange && values.length ? fitted(values, tick) : [0, topOf(values, yMax, counts)];
  const labels = [0, 1, 2, 3, 4].map((i) => `${valueText(bottom + ((top - bottom) * i) / 4, tick)}${unit}`);
  // Room for the longest label (some 6.5 px a character at 11 px): "30,000.0" was cut off.
  const left = Math.max(PAD.left, Math.ceil(10 + 6.5 * Math.max(...labels.map((t) => t.length))));
  const x = (t) => left + ((t - oldest) / windowSeconds) * (W - left - PAD.right);
  const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - (Math.min(v, top) - bottom) / (top - bottom));
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  chart.append(...axis(W, left, labels));
  const [since, until] = clock ? [formatTime(oldest), formatTime(newest)] : [ago(windowSeconds), "now"];
  chart.append(svg("text", { x: W - PAD.right, y: H - 6, class: "tick", "text-anchor": "end" }, until));
  chart.append(svg("text", { x: left, y: H - 6, class: "tick" }, since));
  series.forEach((s, i) => {
    const points = s.points.filter((p) => p[0] >= oldest && p[1] !== null && p[1] !== undefined);
    if (!points.length) return;
    const joined = (j) => j > 0 && points[j][0] - points[j - 1][0] <= gapSeconds;
    const d = points.map((p, j) => `${joined(j) ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
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
