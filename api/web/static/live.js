// One WebSocket per tab, multiplexing every channel the pages want.
//
// The socket is opened with a single-use ticket from POST /ws/ticket (the key itself never goes
// in a URL). After a drop it reconnects with backoff and resubscribes each channel with `since`
// = the last seq it delivered, so the server replays exactly what was missed; a second gate here
// drops anything at or below that seq, so a page never sees an event twice.

import { api } from "./api.js";

/** Silence before a socket is presumed dead: two of the server's heartbeats missed and a slack
 *  for a late one (`heartbeat_interval_s` from auth.ok; 15 s by default, so 40 s, the limit used
 *  before auth.ok or with a server too old to say). The slack is two thirds of a beat, kept
 *  within 5-10 s. The second missed beat already allows a whole interval of lateness; the slack
 *  covers what delays a frame regardless of the interval: a GC pause in the api or here, TCP
 *  retransmits (1 s, then 2 s more), a busy event loop. 5 s outlasts those; 10 s was the slack
 *  for every interval and stays the one for 15 s and longer. A server set to beat faster asks
 *  for a dead peer to be noticed sooner, and a wrong guess costs only a reconnect that resumes
 *  with `since`, so a short interval need not carry the default's 10 s. */
const DEFAULT_SILENCE_LIMIT_MS = 40_000;
const SLACK_MIN_MS = 5_000;
const SLACK_MAX_MS = 10_000;
function silenceLimitMs(limits) {
  const beatMs = Number(limits && limits.heartbeat_interval_s) * 1_000;
  if (!(beatMs > 0)) return DEFAULT_SILENCE_LIMIT_MS;
  const slack = Math.min(SLACK_MAX_MS, Math.max(SLACK_MIN_MS, (beatMs * 2) / 3));
  return beatMs * 2 + slack;
}
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 5000];
/** Close code 4029: this principal has too many sockets; waiting longer is the only cure. */
const TOO_MANY_CONNECTIONS = 4029;
/** Subscribe refusals that asking again cannot change: the subscription is dropped. */
const FINAL_REFUSALS = new Set(["bad_channel", "not_found", "forbidden"]);

export function compareSeq(a, b) {
  const [am, an] = a.split("-").map(Number);
  const [bm, bn] = b.split("-").map(Number);
  return am === bm ? an - bn : am - bm;
}

class Subscription {
  constructor(channel) {
    this.channel = channel;
    this.handlers = new Set();
    this.last = null; // seq of the newest event or start state delivered
  }

  deliver(message) {
    for (const handler of this.handlers) {
      try {
        handler(message);
      } catch (err) {
        console.error(`handler for ${this.channel} failed`, err);
      }
    }
  }
}

export class Live extends EventTarget {
  constructor() {
    super();
    this.subs = new Map();
    this.pending = new Map(); // request id -> {resolve, reject}
    this.subscribing = new Map(); // subscribe request id -> its Subscription, until answered
    this.ws = null;
    this.state = "idle";
    this.principal = null;
    this.limits = {};
    this.failures = 0;
    this.nextId = 1;
    this.stopped = true;
    this.timer = null;
    this.watchdog = null;
    this.unhear = null; // stops this.ws's handlers, for a socket given up on
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setState("idle");
  }

  /** Receive every message of `channel` (events, and start states: snapshot, history). */
  subscribe(channel, handler) {
    let sub = this.subs.get(channel);
    if (!sub) {
      sub = new Subscription(channel);
      this.subs.set(channel, sub);
      if (this.state === "live") this.sendSubscribe(sub);
    }
    sub.handlers.add(handler);
    return () => this.release(channel, handler);
  }

  release(channel, handler) {
    const sub = this.subs.get(channel);
    if (!sub) return;
    sub.handlers.delete(handler);
    if (sub.handlers.size) return;
    this.subs.delete(channel);
    if (this.state === "live") this.send({ type: "unsubscribe", channel });
  }

  /** Send a message and wait for its answer (matched by id); rejects with the error answer. */
  request(message) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.state !== "live") {
        reject(Object.assign(new Error("Not connected; retry in a moment."), { code: "offline" }));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.send({ ...message, id });
    });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  sendSubscribe(sub) {
    const message = { type: "subscribe", channel: sub.channel, id: this.nextId++ };
    this.subscribing.set(message.id, sub);
    if (sub.last) message.since = sub.last;
    this.send(message);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    document.documentElement.dataset.live = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  async connect() {
    this.setState(this.failures ? "reconnecting" : "connecting");
    let ticket;
    try {
      ticket = (await api("POST", "/ws/ticket")).ticket;
    } catch (err) {
      if (err.status === 401) return; // the app signs out on its own (api.js event)
      this.retry();
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    const heard = new AbortController();
    this.unhear = () => heard.abort();
    ws.addEventListener("message", (e) => this.onFrame(e.data), { signal: heard.signal });
    ws.addEventListener("close", (e) => this.onClose(ws, e.code), { signal: heard.signal });
  }

  onClose(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearTimeout(this.watchdog);
    for (const { reject } of this.pending.values()) {
      reject(Object.assign(new Error("The connection dropped; retry."), { code: "offline" }));
    }
    this.pending.clear();
    this.subscribing.clear();
    if (this.stopped) return;
    this.retry(code === TOO_MANY_CONNECTIONS ? 15_000 : undefined);
  }

  retry(delay) {
    this.setState("reconnecting");
    const base = delay ?? BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.failures += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), base + Math.random() * 250);
  }

  resetWatchdog() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.presumeDead(), silenceLimitMs(this.limits));
  }

  /** A silent peer may be stalled, not gone: it answers no closing handshake either, and the
   *  browser reports the close only when its own wait for one ends, a minute later. So the
   *  socket is closed unheard (a late close or frame of it changes nothing) and replaced now. */
  presumeDead() {
    const ws = this.ws;
    if (!ws) return;
    this.unhear();
    ws.close(4000);
    this.onClose(ws, 4000);
  }

  onFrame(text) {
    this.resetWatchdog();
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.seq && message.ts !== undefined) this.onEvent(message);
    else this.onControl(message);
  }

  onEvent(event) {
    // user.{principal id} is what this client subscribed to as user.me.
    const key = event.channel.startsWith("user.") ? "user.me" : event.channel;
    const sub = this.subs.get(key);
    if (!sub) return;
    if (sub.last && compareSeq(event.seq, sub.last) <= 0) return; // already delivered
    sub.last = event.seq;
    sub.deliver({ kind: "event", ...event });
  }

  onControl(message) {
    const asked = message.ref !== undefined ? this.subscribing.get(message.ref) : undefined;
    if (asked) {
      this.subscribing.delete(message.ref);
      if (message.type === "error") {
        this.onRefused(asked, message);
        return;
      }
    }
    const waiting = message.ref !== undefined ? this.pending.get(message.ref) : undefined;
    if (waiting) {
      this.pending.delete(message.ref);
      if (message.type === "error") waiting.reject(Object.assign(new Error(message.message), message));
      else waiting.resolve(message);
      return;
    }
    if (message.type === "auth.ok") this.onAuthenticated(message.principal, message.limits);
    else if (message.type === "error" && !message.channel) this.onChannelError(message);
    else if (message.channel) this.onChannelControl(message);
  }

  /** `limits`: the server's own (e.g. `chat_max_message_bytes`); an older server sends none. */
  onAuthenticated(principal, limits) {
    this.principal = principal;
    this.limits = limits || {};
    // The watchdog armed by this very frame used the limit for a server that has not said (40 s):
    // a stall before any later frame went unnoticed that long (seen on a loaded machine).
    this.resetWatchdog();
    this.failures = 0;
    this.setState("live");
    this.dispatchEvent(new CustomEvent("principal", { detail: principal }));
    for (const sub of this.subs.values()) this.sendSubscribe(sub);
  }

  /** The server refused a subscribe: its handlers hear why (`kind: "error"`); a final refusal
   *  (a malformed or unknown channel) also ends the subscription, so no reconnect repeats it. */
  onRefused(sub, message) {
    const final = FINAL_REFUSALS.has(message.code);
    if (final && this.subs.get(sub.channel) === sub) this.subs.delete(sub.channel);
    sub.deliver({ kind: "error", final, ...message });
  }

  onChannelError(message) {
    this.dispatchEvent(new CustomEvent("error", { detail: message }));
  }

  onChannelControl(message) {
    const sub = this.subs.get(message.channel);
    if (!sub) return;
    const resumed = Boolean(sub.last);
    if (message.type === "subscribed" && message.seq && !sub.last) {
      // Subscribed from "now": the server says which seq that is, so a drop before the first
      // event resumes from there instead of from a later "now".
      sub.last = message.seq;
    }
    if ((message.type === "snapshot" || message.type === "chat.history") && message.seq) {
      if (!sub.last || compareSeq(message.seq, sub.last) > 0) sub.last = message.seq;
    }
    if (message.type === "resync") {
      // Events were lost: start over from a fresh start state.
      sub.last = null;
      if (!sub.channel.startsWith("job.")) {
        this.send({ type: "unsubscribe", channel: sub.channel });
        this.sendSubscribe(sub);
      }
    }
    sub.deliver({ kind: message.type, ...message, resumed });
  }
}
