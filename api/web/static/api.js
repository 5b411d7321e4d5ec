// The REST client. The API key lives in sessionStorage (gone when the tab closes) and travels
// only in the Authorization header: never in a URL, never in a cookie.

import { parseJson } from "./dom.js";

const KEY_SLOT = "jobcast.key";

export function storedKey() {
  return sessionStorage.getItem(KEY_SLOT);
}

export function rememberKey(key) {
  sessionStorage.setItem(KEY_SLOT, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_SLOT);
}

/** An error answer of the API: `code`, `message`, `details` and the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || (status === 0 ? "network_error" : `http_${status}`);
    this.details = error.details;
  }
}

function authHeaders(extra = {}) {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}`, ...extra } : extra;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return parseJson(text);
  } catch {
    return { error: { code: `http_${response.status}`, message: text.slice(0, 200) } };
  }
}

/** fetch() with the key, JSON in and out; throws ApiError for any non-2xx answer. */
export async function api(method, path, body) {
  const init = { method, headers: authHeaders(), cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { error: { code: "network_error", message: "The server cannot be reached." } });
  }
  const data = await readBody(response);
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent("jobcast:unauthorized"));
    throw new ApiError(response.status, data);
  }
  return data;
}

/** Reads a listing (`{items, next_cursor}`; `path` has a query) page after page, handing each
 * page's items to `onPage`, until `next_cursor` is null, `enough()` is true, or `maxPages` were
 * asked for. A page may be short, even empty, with more to come: a filtered listing reads at
 * most 2,000 records per request (LIST_SCAN_LIMIT), so a short page is not the end. */
export async function eachPage(path, onPage, { maxPages, enough = () => false }) {
  let cursor = null;
  for (let asked = 0; asked < maxPages; asked += 1) {
    const page = await api("GET", cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
    onPage(page.items);
    cursor = page.next_cursor;
    if (!cursor || enough()) return;
  }
}

/** A multipart upload with progress (fetch cannot report upload progress; XHR can). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = parseJson(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, { error: { code: "network_error", message: "The upload failed." } })),
    );
    xhr.send(form);
  });
}

/** Download a file that needs the key: fetched with the header, saved from a blob URL. */
export async function download(path, filename) {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw new ApiError(response.status, await readBody(response));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
