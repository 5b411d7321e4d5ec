// Chat: join a room, see who is there and its recent history, talk live.

import { address, addressed, errorText, fill, formatTime, h, keepChildren } from "./dom.js";
import { compareSeq } from "./live.js";

// The room is in the address (#/chat/<room>): a reload, or the link kept, joins it again.
const ROOM = /^[A-Za-z0-9_.:-]{1,128}$/;
// The server's limit on a message (JOBCAST_CHAT_MAX_MESSAGE_BYTES) counts the text's UTF-8 bytes,
// not its characters: the box's maxLength let 2,000 "é" (4,000 bytes) through to be refused after
// sending. Checked here, the message stays in the box to be shortened. The box has no maxLength of
// its own: it cut a longer paste silently, and this check says how long it is. The limit is the
// one auth.ok names (a copy here disagreed with a server configured otherwise); a server too old
// to name it has the setting's default.
const DEFAULT_MAX_MESSAGE_BYTES = 2000;

export function mountChat(root, live) {
  let room = null;
  let leave = null;
  let messages = [];
  let present = [];

  const roomInput = h("input#room", { value: "lobby", "aria-label": "Room", pattern: "[A-Za-z0-9_.:\\-]{1,128}", title: "1 to 128 ASCII letters, digits, or _ . : - (as the server takes)", required: true });
  const joinForm = h("form.row", { onsubmit: onJoin, noValidate: true },
    h("label", { htmlFor: "room" }, "Room"), roomInput, h("button", { type: "submit" }, "Join"));
  const title = h("h2", {}, "Not in a room");
  const log = h("ol.chat-log", { "aria-label": "Messages", "aria-live": "polite" });
  // The log is a live region, where each line put in is read out: a line shown is kept, not
  // drawn anew (a redraw of the whole log read every message again with each new one).
  const lines = new Map(); // `${room} ${seq}` -> its line
  const emptyLine = h("li.notice");
  const people = h("ul.people", { "aria-label": "Present" });
  const text = h("input#say", { "aria-label": "Message", placeholder: "Say something…", autocomplete: "off", disabled: true });
  const error = h("p.error", { role: "alert" });
  const sayForm = h("form.say", { onsubmit: say }, text, h("button.primary", { type: "submit" }, "Send"));

  fill(root, h("div.chat-layout", {},
    h("div.card.chat-main", {}, h("div.card-head", {}, title, joinForm), log, error, sayForm),
    h("div.card", {}, h("h2", {}, "Present"), people)));

  // Spaces around a name are not part of it: trimmed before the box's pattern is checked (it
  // refused " lobby "), then the browser says what is wrong with the rest, as before.
  function onJoin(event) {
    event.preventDefault();
    roomInput.value = roomInput.value.trim();
    if (roomInput.reportValidity()) join(roomInput.value);
  }

  function join(name) {
    if (!name || name === room) return;
    if (leave) leave();
    error.textContent = "";
    room = name;
    roomInput.value = name;
    address("chat", name);
    messages = [];
    present = [];
    fill(title, `# ${name}`);
    text.disabled = false;
    render();
    leave = live.subscribe(`chat.${name}`, onRoom);
  }

  function onRoom(message) {
    if (message.kind === "error") {
      fill(error, errorText(message));
      if (!message.final) return; // e.g. Redis away: the subscription is asked again on reconnect
      // A name the server does not take: leave nothing half-joined.
      leave = null;
      room = null;
      address("chat", "");
      messages = [];
      present = [];
      fill(title, "Not in a room");
      text.disabled = true;
      render();
      return;
    }
    if (message.kind === "chat.history") {
      // A fresh start (first join or resync): history replaces what we had, merged by seq.
      const seen = new Set(messages.map((m) => m.seq));
      messages = [...messages, ...message.messages.filter((m) => !seen.has(m.seq))];
      present = message.present;
    } else if (message.kind === "event") {
      if (message.type === "chat.message") messages.push(message);
      if (message.type === "chat.join" || message.type === "chat.leave") {
        present = message.data.present;
        messages.push(message);
      }
    } else return;
    messages.sort((a, b) => compareSeq(a.seq, b.seq));
    messages = messages.slice(-200);
    render();
  }

  function line(m) {
    if (m.type === "chat.message") {
      const mine = live.principal && m.data.from.id === live.principal.id;
      // dir=auto: a name or a message in Arabic or Hebrew is laid out right to left, each on its own.
      return h("li", { className: mine ? "mine" : "", dataset: { seq: m.seq } },
        h("span.from", { dir: "auto" }, m.data.from.name), h("span.text", { dir: "auto" }, m.data.text), h("time.muted", {}, formatTime(m.ts)));
    }
    const verb = m.type === "chat.join" ? "joined" : "left";
    return h("li.notice", { dataset: { seq: m.seq } }, h("bdi", {}, m.data.principal.name), ` ${verb} · ${formatTime(m.ts)}`);
  }

  function shownLine(m) {
    const key = `${room} ${m.seq}`;
    if (!lines.has(key)) lines.set(key, line(m));
    return lines.get(key);
  }

  function render() {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const empty = room ? "No messages yet." : "Join a room to chat.";
    if (emptyLine.textContent !== empty) emptyLine.textContent = empty;
    const shown = messages.length ? messages.map(shownLine) : [emptyLine];
    const kept = new Set(shown);
    for (const [key, el] of lines) if (!kept.has(el)) lines.delete(key);
    keepChildren(log, shown);
    if (atBottom) log.scrollTop = log.scrollHeight;
    fill(people, present.map((p) => h("li", { dataset: { principal: p.id } }, h("span.presence-dot", { "aria-hidden": "true" }), h("bdi", {}, p.name))));
  }

  async function say(event) {
    event.preventDefault();
    const value = text.value.trim();
    if (!value || !room) return;
    error.textContent = oversize(value, maxMessageBytes(live.limits));
    if (error.textContent) return;
    const typed = text.value;
    try {
      await live.request({ type: "publish", channel: `chat.${room}`, data: { text: value } });
      // Only what was sent: a draft typed while the server answered is the next message.
      if (text.value === typed) text.value = "";
    } catch (err) {
      fill(error, errorText(err));
    }
  }

  let joined = false;
  window.addEventListener("jobcast:page", (e) => {
    if (e.detail !== "chat") return;
    const asked = addressed("chat");
    const wanted = asked && ROOM.test(asked) ? asked : null;
    if (!joined || (wanted && wanted !== room)) join(wanted || "lobby"); // first visit, or a link
    else if (room) address("chat", room);
    if (asked && !wanted) {
      // A link to a name the server would refuse: said, not silently left for another room.
      // Said after joining, which clears the last room's error (the lobby joined on a first
      // visit cleared this one).
      error.textContent = `No room ${JSON.stringify(asked)}: a room's name is 1 to 128 ASCII letters (no accents), digits, or _ . : -`;
    }
    joined = true;
  });
  render();
}

/** The longest message the server takes, in UTF-8 bytes, from the limits it sent. */
function maxMessageBytes(limits) {
  const named = limits.chat_max_message_bytes;
  return Number.isInteger(named) && named > 0 ? named : DEFAULT_MAX_MESSAGE_BYTES;
}

/** Why `text` is too long for the server to take (`max` bytes), or "" when it is not. */
function oversize(text, max) {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes <= max) return "";
  const count = (n) => n.toLocaleString("en-US");
  return `Too long to send: ${count(bytes)} bytes, and a message may have ${count(max)} `
    + `bytes of UTF-8: ${count(max)} plain letters, fewer with accents (2 bytes each) or emoji (4).`;
}
