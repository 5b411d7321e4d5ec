// Jobs: upload a table (drag and drop or pick), choose what to do with it, watch the upload and
// then the processing live, and read the result.

import { api, upload } from "./api.js";
import { address, addressed, counted, errorText, fill, formatBytes, formatDuration, formatNumber, formatTime, h } from "./dom.js";
import { readHeader } from "./header.js";
import { renderResult } from "./results.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const STATUSES = ["queued", "running", "retrying", "cancelling", "succeeded", "failed", "cancelled"];
const METRICS = ["count", "sum", "mean", "min", "max"];
/** How far along a status is: a job moves only forward (running and retrying alternate). */
const STAGE = { queued: 0, running: 1, retrying: 1, cancelling: 2 };
const stage = (status) => (TERMINAL.has(status) ? 3 : STAGE[status] ?? 0);
// The job shown is in the address (#/jobs/<id>): a reload, or the link kept, opens it again.
const JOB_ID = /^[\w-]+$/;
const addressedJob = () => { const id = addressed("jobs"); return id && JOB_ID.test(id) ? id : null; };
/** Why the aggregate form cannot offer a file's columns (header.js `readHeader`). */
const UNREAD = {
  unknown: "This file's columns cannot be read here: profile it, and the server says what it holds.",
  format: "This file's columns cannot be read here (gzip, Parquet or a spreadsheet): profile or convert it.",
  empty: "This file is empty: there is nothing to aggregate (the server refuses an empty upload).",
  binary: "This file is not a text table (it has NUL bytes): pick its encoding under \"How to read the file\" if it is UTF-16, or profile it and the server says what it is.",
};
/** An upload's refusal for the form. One the api cut because nothing came (a flaky
 * connection) is said plainly: the server's words serve any client, this user needs to know
 * nothing was kept and what to do. */
function uploadErrorText(err) {
  if (err.code !== "upload_stalled") return errorText(err);
  const idle = err.details && err.details.idle_timeout_s;
  const quiet = typeof idle === "number" ? ` for ${idle} s` : "";
  return `The upload stalled: nothing reached the server${quiet}, so it cut the upload; nothing was stored and no job was made. Check your connection and send the file again.`;
}
const EVENT_STATUS = { "job.queued": "queued", "job.started": "running", "job.succeeded": "succeeded",
  "job.failed": "failed", "job.cancelled": "cancelled" };

export function mountJobs(root, live) {
  const jobs = new Map();
  const results = new Map();
  const resultNodes = new Map();
  const controls = new Map();
  let selected = addressedJob();
  let header = null;
  let redraw = 0;
  let missing = null; // why the job the address named is not shown
  // The job just opened, until the page has scrolled to it: a result it reads meanwhile is
  // scrolled to again once drawn. The detail was one line ("Loading the result…") when the page
  // scrolled, so the scroll stopped at the page's end and the result came in below the screen.
  let revealing = null;
  let listed = false; // the list read once: until then the detail moves down as it comes in

  const fileInput = h("input#file.visually-hidden", { type: "file", name: "file" });
  // The formats the workers read (workers/files/formats.py), told apart by their bytes.
  const dropText = h("span", {}, "Drop a CSV, TSV, JSON Lines, Parquet, Excel (.xlsx, .xlsm, .xls) or OpenDocument (.ods) file here, text gzipped or not, or ", h("u", {}, "pick one"));
  // The file input itself stays focusable (visually hidden): Tab reaches it, Enter or Space
  // opens the picker natively, and the drop zone shows the focus ring.
  const drop = h("label.drop", { htmlFor: "file" }, h("span.drop-icon", { "aria-hidden": "true" }, "⇪"), dropText, fileInput);
  const operation = h("div.segmented", { role: "radiogroup", "aria-label": "Operation" },
    ...["profile", "aggregate", "convert"].map((op) => h("label", {},
      h("input", { type: "radio", name: "operation", value: op, checked: op === "profile" }), op)));
  const aggregateBox = h("div.options", { hidden: true });
  const convertTo = h("select", { name: "to", "aria-label": "Convert to" },
    h("option", { value: "parquet" }, "Parquet"), h("option", { value: "csv" }, "CSV"));
  const convertBox = h("div.options", { hidden: true }, h("label", {}, "Convert to ", convertTo));
  // How the file is read: left alone, the server detects each (the job's params otherwise).
  const headerInput = h("input", { type: "checkbox", name: "header", checked: true });
  const decimalInput = h("select", { name: "decimal", "aria-label": "Decimal separator" },
    h("option", { value: "" }, "detected"), h("option", { value: "." }, ". (1.5)"), h("option", { value: "," }, ", (1,5)"));
  const encodingInput = h("input", { name: "encoding", placeholder: "detected, e.g. cp1252", autocomplete: "off", spellcheck: false });
  const sheetInput = h("input", { name: "sheet", placeholder: "the first; a name or 0-based index", autocomplete: "off" });
  const readingBox = h("details.reading", {}, h("summary", {}, "How to read the file"),
    h("div.options", {},
      h("label", {}, headerInput, " The first line names the columns"),
      h("label", {}, "Decimal separator ", decimalInput),
      h("label.text-field", {}, "Encoding ", encodingInput),
      h("label.text-field", {}, "Sheet (spreadsheets) ", sheetInput)));
  const uploadBar = h("progress#upload-bar", { max: 100, value: 0 });
  const uploadText = h("span.bar-text");
  const uploadBox = h("div.bar-box", { hidden: true }, h("span.bar-label", {}, "Upload"), uploadBar, uploadText);
  const submitError = h("p.error", { role: "alert" });
  const submit = h("button.primary", { type: "submit", disabled: true }, "Start job");
  const form = h("form.card.new-job", { onsubmit: onSubmit },
    h("h2", {}, "New job"), drop, operation, aggregateBox, convertBox, readingBox, submitError, h("div.row", {}, submit), uploadBox);

  const filter = h("select", { "aria-label": "Filter by status", onchange: () => schedule() },
    h("option", { value: "" }, "All"), ...STATUSES.map((s) => h("option", { value: s }, s)));
  const list = h("ul.job-list", { "aria-label": "My jobs" });
  const listCard = h("div.card", {}, h("div.card-head", {}, h("h2", {}, "My jobs"), filter), list);
  // The detail is redrawn on every progress event: were it a live region, a screen reader would
  // say each tick. Only the shown job's status is said, from a region of its own.
  const detail = h("div.card.job-detail");
  const statusSaid = h("p.visually-hidden.job-status", { role: "status" });
  fill(root, h("div.jobs-layout", {}, h("div.stack", {}, form, listCard), detail, statusSaid));

  for (const name of ["dragenter", "dragover"]) drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]); });
  fileInput.addEventListener("change", () => fileInput.files.length && choose(fileInput.files[0]));
  operation.addEventListener("change", showOptions);
  for (const input of [headerInput, decimalInput, encodingInput]) input.addEventListener("change", rereadHeader);

  let chosen = null;
  let uploading = false;

  async function choose(file) {
    chosen = file;
    submit.disabled = false;
    submitError.textContent = "";
    // The last upload's line ("34 B uploaded") is not this file's; one still going stays shown.
    if (!uploading) uploadBox.hidden = true;
    fill(dropText, h("strong", {}, file.name), ` · ${formatBytes(file.size)} · `, h("u", {}, "change"));
    await rereadHeader();
  }

  async function rereadHeader() {
    if (!chosen) return;
    header = await readHeader(chosen, reading()).catch(() => null);
    renderAggregateOptions();
  }

  /** The reading params chosen (none left at "detected"). */
  function reading() {
    const chosenParams = {};
    if (!headerInput.checked) chosenParams.header = false;
    if (decimalInput.value) chosenParams.decimal = decimalInput.value;
    const encoding = encodingInput.value.trim();
    if (encoding) chosenParams.encoding = encoding;
    const sheet = sheetInput.value.trim();
    // Digits: an index, as the CLI's --sheet reads them.
    if (sheet) chosenParams.sheet = /^\d+$/.test(sheet) ? Number(sheet) : sheet;
    return chosenParams;
  }

  function op() {
    return form.querySelector("input[name=operation]:checked").value;
  }

  function showOptions() {
    aggregateBox.hidden = op() !== "aggregate";
    convertBox.hidden = op() !== "convert";
  }

  function renderAggregateOptions() {
    if (!header || header.unread) {
      fill(aggregateBox, h("p.muted", {}, chosen ? UNREAD[header ? header.unread : "unknown"] : "Pick a file to choose its columns."));
      return;
    }
    const rows = header.columns.map((name) => h("tr", {},
      // Quoted when spaces lead or trail it: they are part of the name the job is sent.
      h("th", { scope: "row" }, breakable(name === name.trim() ? name : JSON.stringify(name))),
      h("td", {}, h("input", { type: "checkbox", name: "group_by", value: name, "aria-label": `group by ${name}` })),
      ...METRICS.map((m) => h("td", {}, h("input", {
        type: "checkbox", name: "metric", value: `${name}\u0000${m}`, "aria-label": `${m} of ${name}`,
        disabled: (m === "sum" || m === "mean") && !header.summable.has(name),
      })))));
    fill(aggregateBox, assumedEncodingNote(), h("div.table-scroll", {}, h("table.compact", {},
      h("thead", {}, h("tr", {}, h("th", {}, "column"), h("th", {}, "group"), ...METRICS.map((m) => h("th", {}, m)))),
      h("tbody", {}, rows))));
  }

  // Read in an encoding nobody named (header.js `readHeader`): said, for the names may be wrong,
  // with the way to the field that corrects them.
  function assumedEncodingNote() {
    if (!header.assumed) return null;
    const named = encodingInput.value.trim();
    const said = named
      ? `This browser cannot read ${named}: the names are shown as ${header.assumed} reads them; the job reads the file as ${named}.`
      : `This file is not UTF-8: its names are read as ${header.assumed}, as the server reads most such files. If they look wrong, name its encoding under `;
    const toField = h("button.link", { type: "button", onclick: showEncoding }, "How to read the file");
    return h("p.hint.assumed-encoding", {}, said, named ? null : [toField, "."]);
  }

  function showEncoding() {
    readingBox.open = true;
    encodingInput.focus();
  }

  function params() {
    return { ...operationParams(), ...reading() };
  }

  function operationParams() {
    const operation_ = op();
    if (operation_ === "convert") return { operation: "convert", to: convertTo.value };
    if (operation_ !== "aggregate") return { operation: "profile" };
    const groupBy = [...aggregateBox.querySelectorAll("input[name=group_by]:checked")].map((i) => i.value);
    const metrics = {};
    for (const input of aggregateBox.querySelectorAll("input[name=metric]:checked")) {
      const [column, metric] = input.value.split("\u0000");
      (metrics[column] ||= []).push(metric);
    }
    return { operation: "aggregate", group_by: groupBy, metrics };
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (!chosen) return;
    // The server refuses an aggregate of nothing: said before the file is sent, not after.
    const operationChosen = operationParams();
    if (operationChosen.operation === "aggregate" && !operationChosen.group_by.length && !Object.keys(operationChosen.metrics).length) {
      submitError.textContent = "Tick a column to group by, a metric, or both, to aggregate.";
      return;
    }
    const body = new FormData();
    body.append("params", JSON.stringify(params()));
    body.append("file", chosen, chosen.name);
    submit.disabled = true;
    submitError.textContent = "";
    uploading = true;
    window.addEventListener("beforeunload", askBeforeLeaving);
    uploadBox.hidden = false;
    uploadBox.dataset.state = "sending";
    uploadBar.value = 0;
    try {
      const job = await upload("/jobs", body, (sent, total) => {
        uploadBar.value = Math.round((sent / total) * 100);
        uploadText.textContent = `${formatBytes(sent)} of ${formatBytes(total)}`;
      });
      uploadBar.value = 100;
      uploadBox.dataset.state = "done";
      uploadText.textContent = `${formatBytes(chosen.size)} uploaded`;
      merge(job);
      select(job.id, true);
    } catch (err) {
      // Refused or cut off: the bytes sent are not a stored upload (a full bar said they were).
      uploadBox.dataset.state = "failed";
      uploadBar.value = 0;
      const outcome = err.code === "upload_stalled" ? "stalled" : err.status ? "refused" : "failed";
      uploadText.textContent = `${outcome}: nothing stored`;
      fill(submitError, uploadErrorText(err));
    } finally {
      uploading = false;
      window.removeEventListener("beforeunload", askBeforeLeaving);
      submit.disabled = false;
    }
  }

  // A reload or a closed tab would drop the upload (nothing is stored of a part-sent file): the
  // browser asks first, only while one is on its way.
  function askBeforeLeaving(event) {
    event.preventDefault();
    event.returnValue = ""; // what older Chromium still needs to ask
  }

  function merge(record) {
    const known = jobs.get(record.id);
    // A job never goes back (finished to running, running to queued), whatever order answers
    // arrive in: a GET answered while the job was queued, arriving after its job.started event,
    // set it back to queued and lost its start time ("started –" once it finished).
    if (known && stage(record.status) < stage(known.status)) return;
    // Nor does a bar within an attempt: a list read at 6 %, answered after the 12 % event, set it
    // back. Events come in order on the WebSocket; only a REST answer can be stale. A retry (a
    // later attempt) starts afresh; a record of an earlier one is stale as a whole.
    const attempt = record.attempt ?? 0;
    const knownAttempt = known?.attempt ?? 0;
    if (known && attempt < knownAttempt) return;
    const behind = known && attempt === knownAttempt && stage(record.status) === stage(known.status)
      && (record.progress?.percent ?? 0) < (known.progress?.percent ?? 0);
    jobs.set(record.id, { ...known, ...record, ...(behind ? { progress: known.progress } : {}) });
    schedule();
  }

  function onEvent(event) {
    const data = event.data || {};
    const id = data.job_id;
    if (!id || !event.type.startsWith("job.")) return;
    const known = jobs.get(id);
    // Not known yet, or progress (which carries no status) on a job not known as running: its
    // job.started came while the page's first read of it was out. That read's record (queued,
    // attempt 0) is no base for progress: a read answered after it, of the attempt at its start,
    // then looked newer and set the bar back to 0 % for as long as the worker sent nothing. A
    // read asked now is as new as this event, and `merge` keeps the furthest of the answers.
    if (!known || (event.type === "job.progress" && !data.status && known.status !== "running")) {
      api("GET", `/jobs/${id}`).then(merge, () => {});
      return;
    }
    if (TERMINAL.has(known.status)) return;
    const change = { status: data.status || EVENT_STATUS[event.type] || known.status };
    if (event.type === "job.progress" && data.percent !== undefined) change.progress = data;
    // Waiting to retry: the failed attempt's estimate no longer holds (the next starts afresh).
    if (change.status === "retrying" && known.progress) change.progress = { ...known.progress, eta_seconds: null };
    // Its attempt, which `merge` tells a stale record by; the attempt reads from the start.
    if (event.type === "job.started") Object.assign(change, { started_at: event.ts, attempt: data.attempt, progress: null });
    if (event.type === "job.cancelled" && data.rows !== undefined) change.progress = { ...known.progress, rows: data.rows };
    if (data.error) change.error = data.error;
    if (TERMINAL.has(change.status)) change.finished_at = event.ts;
    jobs.set(id, { ...known, ...change });
    schedule();
  }

  async function reload() {
    try {
      const page = await api("GET", "/jobs?limit=100");
      for (const record of page.items.reverse()) merge(record);
      listed = true;
    } catch {
      // offline for a moment: the next (re)subscription reloads
    }
  }

  schedule();
  if (selected) open(selected);
  else malformed();
  window.addEventListener("jobcast:page", (e) => {
    if (e.detail !== "jobs") return;
    const wanted = addressedJob();
    if (wanted && wanted !== selected) open(wanted); // a link or the address bar
    else if (!malformed() && selected) address("jobs", selected);
  });

  // An id no job can have (a mistyped link): said, and the address names the job shown.
  function malformed() {
    const asked = addressed("jobs");
    if (!asked || JOB_ID.test(asked)) return false;
    select(null);
    missing = `No job ${JSON.stringify(asked)}: a job's id is letters, digits, _ and -; the link is mistyped.`;
    return true;
  }

  // A job named by the address: not necessarily among the newest listed; not the caller's, or
  // gone, and the detail says so and the address drops it, as a malformed id's. Brought into
  // view as a job opened from the list is: on a phone a link opened it below the fold.
  function open(id) {
    select(id, true);
    if (!jobs.has(id)) {
      api("GET", `/jobs/${id}`).then(merge, (err) => {
        if (selected !== id) return;
        // No such job of the user's: the address drops it. One the api could not read now (a
        // 503, a network error) stays, so a reload once it answers opens the job.
        const none = err.status === 404 || err.status === 410;
        if (none) select(null);
        missing = err.status === 404 ? `No job ${id} of yours: the link is mistyped, or it is another user's.`
          : err.status === 410 ? `Job ${id} has expired; its data was deleted.` : errorText(err);
        if (!none) schedule();
      });
    }
  }
  // Down, the page hears nothing: what it shows is the last it heard (`processingBar`).
  live.addEventListener("state", () => schedule());
  live.subscribe("user.me", (message) => {
    if (message.kind === "event") onEvent(message);
    else if (message.kind === "subscribed" || message.kind === "resync") reload();
  });

  function select(id, reveal = false) {
    selected = id;
    missing = null;
    revealing = reveal ? id : null;
    address("jobs", id);
    schedule();
    if (reveal) revealSoon();
  }

  function revealSoon() {
    requestAnimationFrame(() => requestAnimationFrame(revealDetail));
  }

  // On a narrow screen the result is below the form and the list: bring it up once drawn (the
  // second frame) when it starts in the lower half of the screen or below.
  function revealDetail() {
    // A job a link opened is waited for, and the list that pushes it down as it comes in.
    if (revealing && (!listed || !jobs.has(revealing))) return;
    revealing = null;
    if (detail.getBoundingClientRect().top > window.innerHeight / 2) {
      detail.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  // A plain HTTP call, whatever the WebSocket's state: its answer (the job, now cancelling) is
  // shown at once, and the job's end comes with its events once the connection is back.
  async function cancel(id) {
    try {
      merge(await api("DELETE", `/jobs/${id}`));
    } catch (err) {
      alertIn(detail, err);
    }
  }

  function schedule() {
    if (!redraw) redraw = requestAnimationFrame(() => { redraw = 0; render(); });
  }

  function render() {
    const focused = focusedControl();
    const wanted = filter.value;
    const rows = [...jobs.values()]
      .filter((j) => !wanted || j.status === wanted)
      .sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
    fill(list, rows.length ? rows.map(jobRow) : h("li.empty", {}, wanted ? `No ${wanted} jobs.` : "No jobs yet: start one above."));
    renderDetail();
    sayStatus();
    if (focused) restoreFocus(focused);
    if (revealing) revealSoon();
  }

  // A redraw replaces the buttons: focus on one fell to <body> (a keyboard user could not reach
  // "Cancel job" while progress arrived). The new button of the same action and job takes it.
  // The buttons are kept (one per action and job, `control`) so a click pressed across a redraw
  // lands, and focus is put back on the button once it is back in the page.
  function focusedControl() {
    const el = document.activeElement;
    return el && el.dataset.action && (list.contains(el) || detail.contains(el)) ? el : null;
  }

  function restoreFocus(el) {
    if (document.activeElement === el) return;
    // Gone (a finished job has no Cancel): its job's row, rather than the top of the page.
    const row = controls.get(`open ${el.dataset.jobId}`);
    if (el.isConnected) el.focus();
    else if (row && row.isConnected) row.focus();
  }

  function control(action, job, make) {
    const key = `${action} ${job.id}`;
    if (!controls.has(key)) controls.set(key, make({ type: "button", dataset: { action, jobId: job.id } }));
    return controls.get(key);
  }

  function sayStatus() {
    const job = jobs.get(selected);
    const said = job ? `${job.filename || job.id}: ${job.status}` : "";
    if (statusSaid.textContent !== said) statusSaid.textContent = said;
  }

  function jobRow(job) {
    const active = !TERMINAL.has(job.status);
    return h("li", { dataset: { jobId: job.id }, className: job.id === selected ? "selected" : "" },
      control("open", job, (attrs) => h("button.job-open", { ...attrs, onclick: () => select(job.id, true), "aria-label": `Open ${job.filename || job.id}` },
        h("span.job-name", {}, job.filename || job.id),
        h("span.muted", {}, `${job.operation} · ${formatBytes(job.size)} · ${formatTime(job.created_at)}`))),
      chip(job.status),
      active && job.progress ? processingBar(job, true, live.state === "live") : null,
      active ? control("cancel", job, (attrs) => h("button.ghost.small", { ...attrs, onclick: () => cancel(job.id), "aria-label": `Cancel ${job.filename || job.id}` }, "Cancel")) : null);
  }

  function renderDetail() {
    const job = jobs.get(selected);
    if (!job) {
      fill(detail, h("h2", {}, "Result"), missing ? h("div.error-box.missing-job", { role: "alert" }, missing)
        : h("p.muted", {}, "Pick a job to see its progress and result."));
      return;
    }
    const active = !TERMINAL.has(job.status);
    fill(detail,
      h("div.card-head", {}, h("h2", {}, job.filename || job.id), chip(job.status)),
      // Queued, it has not started: "started –" and "Processing 0%" read as stuck.
      h("p.muted", {}, `${job.operation} · ${formatBytes(job.size)} · `, job.started_at ? `started ${formatTime(job.started_at)}` : "not started yet",
        job.finished_at && job.started_at ? ` · took ${formatDuration(job.finished_at - job.started_at)}` : ""),
      job.status === "queued" ? h("p.waiting", {}, "Waiting for a worker") : active ? processingBar(job, false, live.state === "live") : null,
      active ? h("div.row", {}, control("cancel-job", job, (attrs) => h("button.danger", { ...attrs, onclick: () => cancel(job.id) }, "Cancel job"))) : null,
      job.status === "failed" && job.error ? h("div.error-box", { role: "alert" },
        h("strong", {}, job.error.code), " ", job.error.message) : null,
      job.status === "cancelled" ? cancelledView(job) : null,
      job.status === "succeeded" ? resultView(job) : null);
  }

  function cancelledView(job) {
    const rows = job.progress ? job.progress.rows : undefined;
    return h("p.cancelled-note", {}, job.started_at && rows !== undefined
      ? `Cancelled after ${counted(rows, "row")}; a cancelled job keeps no result.`
      : "Cancelled before it started; it has no result.");
  }

  function resultView(job) {
    // Built once per job and reused: redraws for other jobs' events keep its sort and scroll.
    if (resultNodes.has(job.id)) return resultNodes.get(job.id);
    const box = h("div.result", { dataset: { jobId: job.id } });
    const result = results.get(job.id);
    if (result) {
      fill(box, renderResult(job, result));
      resultNodes.set(job.id, box);
    } else {
      fill(box, h("p.muted", {}, "Loading the result…"));
      const reveal = revealing === job.id;
      api("GET", `/jobs/${job.id}/result`).then((r) => {
        results.set(job.id, r);
        schedule();
        if (reveal && selected === job.id) revealSoon();
      }, (err) => alertIn(box, err));
    }
    return box;
  }
}

function chip(status) {
  return h("span.chip", { dataset: { status } }, status);
}

/** `heard`: the connection is up, so the bar is live; else it is the last progress heard, and its
 * estimate, from then, is left out. */
function processingBar(job, compact, heard) {
  const p = job.progress || {};
  const percent = Math.max(0, Math.min(100, p.percent || 0));
  // Floored: a running job at 99.6 % is not "100 %" (it is done when its status says so).
  const text = [`${Math.floor(percent)}%`];
  if (p.rows !== undefined) text.push(counted(p.rows, "row"));
  if (!heard) text.push("last known");
  else if (!compact && p.eta_seconds !== null && p.eta_seconds !== undefined) text.push(`ETA ${formatDuration(p.eta_seconds)}`);
  return h("div.bar-box.processing", { dataset: { percent: percent.toFixed(1), heard } },
    compact ? null : h("span.bar-label", {}, "Processing"),
    h("progress", { max: 100, value: percent, "aria-label": "Processing" }),
    h("span.bar-text", {}, text.join(" · ")));
}

function alertIn(el, err) {
  el.append(h("div.error-box", { role: "alert" }, errorText(err)));
}

// A column name with a break allowed after each `_`, where a reader splits it too: left to the
// browser, a long name broke mid-word ("customer_lifet" / "ime_value_eur").
function breakable(name) {
  return name.split(/(?<=_)/).flatMap((part, i) => (i ? [h("wbr"), part] : [part]));
}
