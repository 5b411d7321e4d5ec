// A table wider than the screen scrolls sideways inside its frame. On a phone nothing said so:
// the columns past the edge were simply not there. The frame shades each edge with more beyond
// it, a note says the table scrolls, and the scroller is a named region that keyboard users can
// reach with Tab and scroll with the arrow keys.

import { h } from "./dom.js";

let frames = 0;

/** [note, frame]: `table` in a scroller named `label` (for screen readers), the note shown and
 * the scroller focusable only while the table overflows it. */
export function scrollFrame(table, label) {
  const note = h("p.scroll-note", { id: `scroll-note-${(frames += 1)}`, hidden: true },
    "The table scrolls sideways: swipe it, or focus it and use the arrow keys.");
  const scroller = h("div.table-scroll", { role: "region", "aria-label": label }, table);
  const frame = h("div.scroll-frame", {}, scroller);
  const update = () => markEdges(frame, scroller, note);
  scroller.addEventListener("scroll", update, { passive: true });
  // Sized when it enters the page, and again when the screen turns or the table is redrawn.
  const resized = new ResizeObserver(update);
  resized.observe(scroller);
  resized.observe(table);
  return [note, frame];
}

function markEdges(frame, scroller, note) {
  const hidden = scroller.scrollWidth - scroller.clientWidth;
  const sideways = hidden > 1; // a pixel of rounding is no column out of sight
  frame.toggleAttribute("data-more-before", sideways && scroller.scrollLeft > 1);
  frame.toggleAttribute("data-more-after", sideways && hidden - scroller.scrollLeft > 1);
  note.hidden = !sideways;
  describe(scroller, sideways ? note.id : null);
  const scrolls = sideways || scroller.scrollHeight > scroller.clientHeight;
  if (scrolls) scroller.tabIndex = 0;
  else scroller.removeAttribute("tabindex");
}

function describe(el, id) {
  if (id) el.setAttribute("aria-describedby", id);
  else el.removeAttribute("aria-describedby");
}
