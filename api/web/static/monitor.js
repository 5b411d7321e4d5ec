// Monitor: the cluster's `monitor.sample` events as live charts, from when the page opened up to
// the last five minutes (the channel's history is not replayed: a sample a second would be a lot).

import { fill, formatBytes, formatNumber, h } from "./dom.js";
import { lineChart, lineSwatch } from "./charts.js";

const WINDOW_SECONDS = 300;
// Usual sample intervals past which two samples are not joined by a line (the stack was down,
// the page offline): a few, so one late sample does not break it.
const GAP_STEPS = 3;

/** The samples' usual spacing (the server's `JOBCAST_MONITOR_INTERVAL`): their lower median gap,
 *  which one outage among them does not move. */
function usualStep(list) {
  const gaps = list.slice(1).map((s, i) => s.ts - list[i].ts).sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)] : 1;
}

/** Per-host figures (the admins' `monitor.admin` sample) or the cluster's (`monitor` totals). */
function hostFigures(sample, field) {
  const hosts = sample.hosts || {};
  if (typeof hosts.count === "number") return { cluster: hosts[field] };
  return Object.fromEntries(Object.entries(hosts).map(([host, f]) => [host, f[field]]));
}

export function mountMonitor(root, live) {
  // Everyone gets the cluster's totals on `monitor`; an admin also gets per-host figures on
  // `monitor.admin` (others are refused it), and then those are shown.
  const buffers = { monitor: [], "monitor.admin": [] };
  let samples = buffers.monitor;
  const figures = h("div.figures");
  const grid = h("div.monitor-grid");
  fill(root, figures, grid);
  const panels = {};
  for (const [key, title] of [["cpu", "CPU per host"], ["memory", "Memory per host"], ["queues", "Queue depths"],
    ["tasks", "Tasks per second"], ["ws", "WebSocket connections"], ["workers", "Workers online"]]) {
    const body = h("div.chart-box");
    const legend = h("ul.legend");
    panels[key] = { body, legend, title };
    grid.append(h("div.card", { dataset: { chart: key } }, h("h2", {}, title), body, legend));
  }

  function onSample(message) {
    if (message.kind !== "event" || message.type !== "monitor.sample") return;
    const buffer = buffers[message.channel];
    buffer.push({ ts: message.ts, ...message.data });
    while (buffer.length && buffer[0].ts < message.ts - WINDOW_SECONDS) buffer.shift();
    samples = buffers["monitor.admin"].length ? buffers["monitor.admin"] : buffers.monitor;
    if (!root.hidden && buffer === samples) render();
  }

  function series(pick) {
    const names = new Set(samples.flatMap((s) => Object.keys(pick(s) || {})));
    return [...names].sort().map((name) => ({ name, points: samples.map((s) => [s.ts, (pick(s) || {})[name] ?? null]) }));
  }

  function draw(key, list, options) {
    const { body, legend, title } = panels[key];
    // The axis grows with the history, up to five minutes, so a fresh page is not one sliver.
    const span = samples[samples.length - 1].ts - samples[0].ts;
    const windowSeconds = Math.min(WINDOW_SECONDS, Math.max(30, span));
    const gapSeconds = GAP_STEPS * usualStep(samples);
    // Named as its heading reads: a screen reader said the page's own key ("ws") for it.
    fill(body, lineChart(list, { windowSeconds, gapSeconds, label: title, width: body.clientWidth, ...options }));
    fill(legend, list.map((s, i) => {
      const last = [...s.points].reverse().find((p) => p[1] !== null);
      return h("li", {}, lineSwatch(i), `${s.name} `,
        h("strong", {}, last ? `${formatNumber(last[1], 3)}${options.unit || ""}` : "–"));
    }));
  }

  function perHost(field) {
    return (s) => hostFigures(s, field);
  }

  function render() {
    if (!samples.length) return;
    const last = samples[samples.length - 1];
    draw("cpu", series(perHost("cpu_percent")), { unit: "%", yMax: 100 });
    draw("memory", series(perHost("memory_percent")), { unit: "%", yMax: 100 });
    draw("queues", series((s) => s.queues), { counts: true });
    draw("tasks", series((s) => ({ started: s.tasks.started_per_s, finished: s.tasks.finished_per_s })), {});
    draw("ws", series((s) => ({ connections: s.ws_connections })), { counts: true });
    draw("workers", series((s) => ({ online: s.workers_online })), { counts: true });
    const memory = hostFigures(last, "memory_used_bytes");
    const hostCount = typeof last.hosts.count === "number" ? last.hosts.count : Object.keys(last.hosts).length;
    const apiCount = Array.isArray(last.api) ? last.api.length : last.api.processes;
    const figure = (count, one, many) => h("span.figure", {}, h("strong", {}, formatNumber(count)), count === 1 ? ` ${one}` : ` ${many}`);
    fill(figures, figure(hostCount, "host", "hosts"),
      figure(last.workers_online, "worker", "workers"),
      figure(apiCount, "api process", "api processes"),
      figure(last.ws_connections, "WebSocket", "WebSockets"),
      figure(last.tasks.finished_total, "task done", "tasks done"),
      ...Object.entries(memory).map(([host, used]) => h("span.figure", {}, h("strong", {}, host), ` ${formatBytes(used)} used`)));
  }

  live.subscribe("monitor", onSample);
  live.subscribe("monitor.admin", onSample);
  window.addEventListener("jobcast:page", (e) => { if (e.detail === "monitor") render(); });
}
