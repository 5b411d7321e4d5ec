// A succeeded job's result: the profile table with a histogram per numeric column, the
// aggregate as a sortable table, or the converted file to download.

import { download } from "./api.js";
import { counted, dateText, errorText, fill, formatBytes, formatDuration, formatNumber, h } from "./dom.js";
import { histogram } from "./charts.js";
import { scrollFrame } from "./scroll_frame.js";

const PROFILE_FIELDS = ["type", "count", "nulls", "distinct", "mean", "std", "min", "25%", "50%", "75%", "max"];

export function renderResult(job, result) {
  if (job.operation === "aggregate") return aggregateView(result);
  if (job.operation === "convert") return convertView(job, result);
  return profileView(result);
}

function summary(result) {
  const parts = [counted(result.rows, "row")];
  if (typeof result.columns === "number") parts.push(counted(result.columns, "column"));
  if (result.format) parts.push(result.format);
  if (result.duration_seconds !== undefined) parts.push(`${formatDuration(result.duration_seconds)}`);
  if (result.peak_rss_bytes) parts.push(`peak ${formatBytes(result.peak_rss_bytes)}`);
  return h("p.summary", {}, parts.join(" · "));
}

function profileView(result) {
  const columns = result.profile || [];
  const head = h("tr", {}, h("th", { scope: "col" }, "column"),
    ...PROFILE_FIELDS.map((f) => h("th", { scope: "col", className: f === "type" ? "" : "num" }, f)), h("th", { scope: "col" }, "top values"));
  const rows = columns.map(profileRow);
  const charts = columns.filter((c) => c.histogram && c.histogram.counts.length).map((c) =>
    h("figure.hist", {}, histogram(c.histogram, `Histogram of ${c.name}`), h("figcaption", {}, c.name)));
  return [summary(result),
    ...scrollFrame(h("table.profile", {}, h("thead", {}, head), h("tbody", {}, rows)), "Profile of each column"),
    charts.length ? h("h3", {}, "Distributions") : null,
    h("div.histograms", {}, charts)];
}

function profileRow(c) {
  const shown = c.type === "datetime" ? dateText : (v) => v;
  return h("tr", {},
    h("th", { scope: "row" }, c.name),
    ...PROFILE_FIELDS.map((f) => h("td", { className: f === "type" ? "" : "num" },
      f === "distinct" && c.distinct_exact === false ? `≈${formatNumber(c[f])}` : formatNumber(shown(c[f])))),
    // A value and its count kept on one line when the cell wraps.
    h("td.top", {}, (c.top || []).slice(0, 3).map((t) => `${shown(t.value)}\u00a0(${formatNumber(t.count)})`).join(", ")));
}

function aggregateView(result) {
  const table = result.table || [];
  const names = table.length ? Object.keys(table[0]) : [];
  const body = h("tbody");
  const sort = { name: null, dir: 1 };
  // Quoted when spaces lead or trail a name (a column " b " gives " b _sum"): HTML drops them.
  const buttons = names.map((name) => h("button.sort", { type: "button", onclick: () => sortBy(name) },
    /^\s|\s$/.test(name) ? JSON.stringify(name) : name));
  // A heading stands over its figures: at the right of a column of numbers, as they are.
  const heads = names.map((name, i) => h("th", { scope: "col", "aria-sort": "none", className: numbers(table, name) ? "num" : "" }, buttons[i]));

  function sortBy(name) {
    sort.dir = sort.name === name ? -sort.dir : 1;
    sort.name = name;
    heads.forEach((th, i) => th.setAttribute("aria-sort", names[i] === name ? (sort.dir > 0 ? "ascending" : "descending") : "none"));
    draw();
  }

  function draw() {
    const rows = [...table];
    if (sort.name) {
      rows.sort((a, b) => compareCells(a[sort.name], b[sort.name], sort.dir));
    }
    fill(body, rows.map((r) => h("tr", {}, names.map((n) => h("td", { className: ["number", "bigint"].includes(typeof r[n]) ? "num" : "" }, formatNumber(r[n]))))));
  }

  draw();
  return [h("p.summary", {}, `${counted(result.rows, "row")} → ${counted(result.groups, "group")}`, result.truncated ? " (first 10,000 shown)" : ""),
    ...scrollFrame(h("table.aggregate", {}, h("thead", {}, h("tr", {}, heads)), body), "Aggregate")];
}

// Older results kept a decimal column's values as text ("102.50"): text that spells a number
// sorts as that number, else "102.50" would come before "5.00".
const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;

function sortValue(v) {
  return typeof v === "string" && NUMBER_TEXT.test(v) ? Number(v) : v;
}

function isNumeric(v) {
  return typeof v === "number" || typeof v === "bigint";
}

/** Whether the column `name` holds numbers, empty cells aside. */
function numbers(table, name) {
  const values = table.map((r) => r[name]).filter((v) => v !== null && v !== undefined);
  return values.length > 0 && values.every(isNumeric);
}

// Empty cells last in either direction; numbers by value before text, text as text.
function compareCells(x, y, dir) {
  if (x === y) return 0;
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  const a = sortValue(x);
  const b = sortValue(y);
  if (isNumeric(a) !== isNumeric(b)) return (isNumeric(a) ? -1 : 1) * dir;
  if (a == b) return 0; // loose: 5n and 5 are one value
  return (a < b ? -1 : 1) * dir;
}

function convertView(job, result) {
  const to = result.artifact_format || (job.params || {}).to;
  const status = h("span.muted");
  const button = h("button.primary", { type: "button", onclick: async () => {
    fill(status, "downloading…");
    try {
      await download(`/jobs/${job.id}/artifact`, `${(job.filename || job.id).replace(/\.[^.]+$/, "")}.${to}`);
      fill(status, "");
    } catch (err) {
      fill(status, errorText(err));
    }
  } }, `Download ${to}`);
  return [h("p.summary", {}, `${counted(result.rows, "row")} · ${formatBytes(result.artifact_bytes)} of ${to}`), h("div.row", {}, button, status)];
}
