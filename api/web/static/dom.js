// Small DOM helpers: build elements without innerHTML, so no text from the server is ever
// parsed as markup.

/** h("button#send.primary", {onclick, type: "button"}, "Send") -> <button id="send" class="primary">Send</button> */
export function h(tag, attrs = {}, ...children) {
  const [head, ...classes] = tag.split(".");
  const [name, id] = head.split("#");
  const el = document.createElement(name || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) setAttr(el, key, value);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (numbers are fine). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function setAttr(el, key, value) {
  if (value === undefined || value === null || value === false) return;
  if (key.startsWith("on") && typeof value === "function") {
    el.addEventListener(key.slice(2), value);
  } else if (key === "dataset") {
    Object.assign(el.dataset, value);
  } else if (key in el && key !== "list" && key !== "form") {
    el[key] = value;
  } else {
    el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Make `nodes` the children of `el`, in order, leaving each already in its place where it is:
 * a node taken out and put back is new to a live region, which reads it out again. */
export function keepChildren(el, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...el.children]) if (!wanted.has(child)) child.remove();
  nodes.forEach((node, i) => {
    if (el.children[i] !== node) el.insertBefore(node, el.children[i] || null);
  });
  return el;
}

/** What an error says, for the page: its message, with `code` spans as code. The code the API
 * names it by (`invalid_params: …`) is for programs and is left out; it stands in only for a
 * missing message. */
export function errorText(err) {
  const text = err.message || err.code || String(err);
  return text.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part)).filter((part) => part !== "");
}

/** "1 row", "2 rows": a count with its noun. */
export function counted(n, one, many = `${one}s`) {
  return `${formatNumber(n)} ${n === 1 || n === 1n ? one : many}`;
}

export function formatBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i && v < 10 ? 1 : 0)} ${units[i]}`;
}

/** JSON.parse, keeping an integer past 2^53 (an ID such as 12345678901234567890 in a result)
 *  as a BigInt with every digit: a JS number would round it (…567,890 read …568,000). Where
 *  the browser cannot show the reviver the number's text, it is a number as before. */
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value)
      && context && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value);
}

export function formatNumber(v, digits = 4) {
  if (v === null || v === undefined || v === "") return "–";
  if (typeof v === "bigint") return v.toLocaleString("en-US");
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  // Large values keep every integer digit (a sum must not be rounded to 4 figures).
  if (Math.abs(v) >= 10 ** digits) return v.toLocaleString("en-US", { maximumFractionDigits: 1 });
  return Number(v.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** A decimal string ("100000000", "-1234.5") with its whole digits grouped as formatNumber
 *  groups them, every digit kept: Number() would round a long one. */
export function formatDecimal(text) {
  const [whole, frac] = String(text).split(".");
  return `${formatNumber(BigInt(whole))}${frac === undefined ? "" : `.${frac}`}`;
}

/** How many decimals a decimal string has: a tick's ("0.05") is how its prices are written. */
export function decimalsOf(text) {
  return (String(text).split(".")[1] || "").length;
}

// A profile's datetimes are ISO 8601 ("2024-05-01T12:00:00"), an aggregate's as Python writes
// them ("2024-05-01 12:00:00"): both are shown the second way, so one page reads alike.
const ISO_DATETIME = /^(-?\d{4,}-\d\d-\d\d)T(\d\d:\d\d)/;

/** A datetime of a result as the page shows it; anything else as it is. */
export function dateText(v) {
  return typeof v === "string" ? v.replace(ISO_DATETIME, "$1 $2") : v;
}

export function formatTime(ts) {
  if (!ts) return "–";
  return new Date(ts * 1000).toLocaleTimeString([], { hour12: false });
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  // A small file's job takes milliseconds: "0 s" said nothing of them.
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

// A page keeps what it shows in the address, after its name (#/jobs/<id>, #/chat/<room>), so a
// reload or a kept link opens the same. No address is the jobs page's (the first).
const ADDRESS = /^#\/(\w+)(?:\/(.*))?$/;

/** What follows `#/<page>/` in the address ("" for nothing), or null on another page's. */
export function addressed(page) {
  const [, name = "jobs", rest = ""] = location.hash.match(ADDRESS) || [];
  if (name !== page) return null;
  try {
    return decodeURI(rest);
  } catch {
    return rest;
  }
}

/** Put `rest` after `#/<page>/` (no history entry), only while the address is that page's: a
 * late answer must not change another page's address. */
export function address(page, rest) {
  if (addressed(page) !== null) history.replaceState(null, "", rest ? `#/${page}/${encodeURI(rest)}` : `#/${page}`);
}
