// The app shell: sign in, the connection indicator, the pages and the hash router.

import { api, forgetKey, rememberKey, storedKey } from "./api.js";
import { Live } from "./live.js";
import { errorText, fill } from "./dom.js";
import { mountChat } from "./chat.js";
import { mountJobs } from "./jobs.js";
import { mountMarket } from "./market.js";
import { mountMonitor } from "./monitor.js";

const PAGES = { jobs: mountJobs, market: mountMarket, chat: mountChat, monitor: mountMonitor };
const STATE_TEXT = { idle: "offline", connecting: "connecting…", live: "live", reconnecting: "reconnecting…" };
const $ = (id) => document.getElementById(id);

let live = null;
// Said on the sign-in form after the reload that follows a key the server stopped taking.
const SIGNED_OUT_NOTE = "jobcast.signed-out";
const KEY_REFUSED = "The server no longer accepts your key (it may have been revoked): sign in with another.";

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const next = dark ? "light" : "dark";
  localStorage.setItem("jobcast.theme", next);
  applyTheme(next);
}

function showSignIn(message = "") {
  document.querySelector(".topbar").hidden = true;
  for (const page of document.querySelectorAll(".page")) page.hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("key").focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) {
    // `required` lets a field of spaces through: said, not a click that does nothing.
    fill($("signin-error"), "Paste your API key: it starts with jc_.");
    return;
  }
  rememberKey(key);
  try {
    await api("GET", "/me");
  } catch (err) {
    forgetKey();
    fill($("signin-error"), err.status === 401 ? "That key is unknown or revoked." : errorText(err));
    return;
  }
  $("key").value = "";
  start();
  focusPage();
}

// After signing in, focus was left on <body> (the form it was on is hidden): a keyboard user
// starts from the page's own heading instead. Focusable by script only, so the skip link stays
// first in the tab order.
function focusPage() {
  const heading = document.querySelector(".page:not([hidden]) h2");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

function signOut() {
  forgetKey();
  if (live) live.stop();
  location.hash = "";
  location.reload();
}

function route() {
  const name = (location.hash.match(/^#\/([^/]*)/) || [])[1];
  const current = PAGES[name] ? name : "jobs";
  // A page that is not (a mistyped link): said, and the address names the page shown, as a link
  // to an unknown symbol is on the market page. No "#/…" at all (the skip link's #main) is none.
  const note = $("route-note");
  note.hidden = name === undefined || current === name;
  if (!note.hidden) {
    note.textContent = `No page ${JSON.stringify(decodeText(name))}; showing Jobs.`;
    history.replaceState(null, "", "#/jobs");
  }
  for (const key of Object.keys(PAGES)) {
    $(`page-${key}`).hidden = key !== current;
    const link = document.querySelector(`nav a[data-page="${key}"]`);
    if (key === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const title = `${current[0].toUpperCase()}${current.slice(1)}`;
  $("page-title").textContent = title;
  document.title = `${title} · Jobcast`;
  window.dispatchEvent(new CustomEvent("jobcast:page", { detail: current }));
}

function decodeText(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function start() {
  $("signin").hidden = true;
  document.querySelector(".topbar").hidden = false;
  $("page-title").hidden = false;
  live = new Live();
  live.addEventListener("state", (e) => {
    $("conn").textContent = STATE_TEXT[e.detail] || e.detail;
    $("conn").dataset.state = e.detail;
  });
  live.addEventListener("principal", (e) => {
    $("who").textContent = e.detail.name;
    $("who").title = `Signed in as ${e.detail.name}`; // the whole name, where it is cut short
  });
  for (const [name, mount] of Object.entries(PAGES)) mount($(`page-${name}`), live);
  live.start();
  window.addEventListener("hashchange", route);
  route();
}

// The key kept in this tab (a reload) may have been revoked meanwhile: it is checked once before
// the pages start, which all ask with it at once (each refusal a 401 in the console, and the
// market's list of symbols thrown uncaught). Offline or failing, the pages start and retry.
async function resume() {
  try {
    await api("GET", "/me");
  } catch (err) {
    if (err.status === 401) {
      forgetKey();
      showSignIn(KEY_REFUSED);
      return;
    }
  }
  start();
}

function boot() {
  applyTheme(localStorage.getItem("jobcast.theme"));
  $("theme").addEventListener("click", toggleTheme);
  $("signout").addEventListener("click", signOut);
  $("signin-form").addEventListener("submit", signIn);
  window.addEventListener("jobcast:unauthorized", () => {
    if (!live) return; // a wrong key at sign-in is answered on the form
    live.stop();
    forgetKey();
    sessionStorage.setItem(SIGNED_OUT_NOTE, KEY_REFUSED);
    location.reload();
  });
  const note = sessionStorage.getItem(SIGNED_OUT_NOTE) || "";
  sessionStorage.removeItem(SIGNED_OUT_NOTE);
  if (storedKey()) resume();
  else showSignIn(note);
}

boot();
