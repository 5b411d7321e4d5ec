// Market: pick a symbol, watch its book (ladder with depth bars), trades and last price live,
// place and cancel orders, see fills as they happen.

import { api, eachPage } from "./api.js";
import { address, addressed, counted, decimalsOf, fill, formatNumber, formatTime, h } from "./dom.js";
import { lineChart } from "./charts.js";
import { checkOrder, fieldOf, orderBody, rulesLine } from "./ticket.js";

const DEPTH = 10;
const OPEN = new Set(["open", "partially_filled"]);
const MAX_FILLS = 50;
// Requests one listing of my orders makes at most. Each reads up to 2,000 of my orders (of every
// symbol), and I keep at most JOBCAST_QUOTA_ORDER_RECORDS of them (100,000 by default): 50
// requests read them all. The bound only keeps a walk from going on without end.
const MAX_ORDER_PAGES = 60;
// Trades the page keeps (the tape's memory), and how far back among the symbol's trades "My
// fills" asks for mine: the tape names no order, so which trades are mine is read from
// GET /market/{symbol}/fills, again after each fill event of an order of mine.
const KEPT_TRADES = 200;
const FILLED = new Set(["order.partially_filled", "order.filled"]);

export function mountMarket(root, live) {
  let symbols = [];
  let symbol = null;
  let rules = null;
  let unsubscribe = null;
  let trades = [];
  let fills = []; // mine among the symbol's recent trades, newest first (GET .../fills)
  let fillsTimer = 0;
  let fillsVersion = 0;
  let bookTimer = 0;
  let bookVersion = 0; // bumped by every book shown or asked for: a late answer is dropped
  const orders = new Map();

  const picker = h("select#symbol", { "aria-label": "Symbol", onchange: () => switchTo(picker.value) });
  const rulesText = h("span.muted.rules");
  const addressNote = h("p.error.address-note", { role: "status" }); // a link to no symbol
  const quoteText = h("span.quote");
  // A table to a screen reader, each level a row that names its side: on the screen the side is
  // its colour and whether it is above the spread or below.
  const ladder = h("div.ladder", { role: "table", "aria-label": "Order book" });
  const tape = h("ol.tape", { "aria-label": "Trades" });
  const chart = h("div.price-chart");
  const openList = h("ul.orders", { "aria-label": "My open orders" });
  // What came of a cancel that could not be done, naming the order: its row may be gone (it
  // filled meanwhile), and the ticket's error line, where it was said, is about the ticket.
  const cancelNote = h("p.cancel-note", { role: "status" });
  const openHeading = h("h2", { tabIndex: -1 }, "My open orders"); // focus's place when the list empties
  // Each open order's Cancel, kept across redraws: focus stays on it while events redraw the list.
  const cancelButtons = new Map(); // order id -> its button
  const fillList = h("ol.fills", { "aria-label": "My fills" });

  const field = (name, input) => h("div.field", { dataset: { field: name } }, input, h("span.field-error", { id: `err-${name}` }));
  const sideInput = h("div.segmented.side", { role: "radiogroup", "aria-label": "Side" },
    h("label.buy", {}, h("input", { type: "radio", name: "side", value: "buy", checked: true }), "Buy"),
    h("label.sell", {}, h("input", { type: "radio", name: "side", value: "sell" }), "Sell"));
  const typeInput = h("select", { name: "type", "aria-label": "Type", onchange: onType },
    h("option", { value: "limit" }, "Limit"), h("option", { value: "market" }, "Market"));
  const tifInput = h("select", { name: "time_in_force", "aria-label": "Time in force" },
    h("option", { value: "GTC" }, "GTC"), h("option", { value: "IOC" }, "IOC"));
  // Should it meet a resting order of yours: trade, cancel this one's remainder, or the other.
  // Named with the label shown (label-in-name: a voice user says what they see), then the term.
  const stpInput = h("select", { name: "self_trade_prevention", "aria-label": "Against my own orders (self-trade prevention)" },
    h("option", { value: "none" }, "trade anyway"), h("option", { value: "cancel_newest" }, "cancel this order"),
    h("option", { value: "cancel_oldest" }, "cancel my resting order"));
  const qtyInput = h("input", { name: "quantity", inputMode: "numeric", "aria-label": "Quantity", placeholder: "Quantity", autocomplete: "off", "aria-describedby": "err-quantity" });
  const priceInput = h("input", { name: "price", inputMode: "decimal", "aria-label": "Price", placeholder: "Price", autocomplete: "off", "aria-describedby": "err-price" });
  const formError = h("p.error", { role: "alert" });
  // What became of an order of mine (rejected, cancelled, filled): otherwise only an order gone
  // from "My open orders", or a line more in "My fills".
  const outcome = h("p.outcome", { role: "status" });
  const announced = new Set();
  const placeButton = h("button.primary", { type: "submit" }, "Place order");
  // The order last sent whose fate is unknown (no answer came, or a 5xx): sent again unchanged,
  // it keeps its client_order_id, so the api answers with that order instead of placing another.
  let unanswered = null; // {body: the request as JSON, id: its client_order_id}
  // The order last placed here, and the resting orders of mine its self-trade prevention
  // (cancel_oldest) cancelled: each cancel was said alone, the last one left standing, about an
  // order not just placed, and nothing of the one that was.
  let placedHere = null; // {clientId, order: the body sent, stopped: ids of the orders cancelled}
  const ticket = h("form.ticket", { onsubmit: place, noValidate: true },
    sideInput,
    h("div.ticket-grid", {},
      h("label", {}, "Type", typeInput), h("label", {}, "Time in force", field("time_in_force", tifInput)),
      h("label", {}, "Quantity", field("quantity", qtyInput)), h("label", {}, "Price", field("price", priceInput)),
      h("label.wide", {}, "Against my own orders", stpInput)),
    formError, placeButton, outcome);

  fill(root, h("div.market-head", {}, h("label", {}, "Symbol ", picker), quoteText, rulesText, addressNote),
    h("div.market-layout", {},
      h("div.card", {}, h("h2", {}, "Order book"), ladder),
      h("div.stack", {}, h("div.card", {}, h("h2", {}, "Last price"), chart), h("div.card", {}, h("h2", {}, "Trades"), tape)),
      h("div.stack", {}, h("div.card.ticket-card", {}, h("h2", {}, "Order ticket"), ticket),
        h("div.card", {}, openHeading, openList, cancelNote), h("div.card", {}, h("h2", {}, "My fills"), fillList))));

  // A market order is IOC: its time in force is set and locked while it is chosen, and the
  // limit order's own comes back with Limit (it stayed IOC, and a limit order meant to rest
  // was cancelled at once).
  let limitTif = tifInput.value;
  function onType() {
    const market = typeInput.value === "market";
    priceInput.disabled = market;
    tifInput.disabled = market;
    if (market) { limitTif = tifInput.value; priceInput.value = ""; tifInput.value = "IOC"; }
    else tifInput.value = limitTif;
  }

  function showErrors(errors) {
    for (const name of ["quantity", "price", "time_in_force"]) {
      const el = root.querySelector(`#err-${name}`);
      el.textContent = errors[name] || "";
      const input = ticket.querySelector(`[name=${name}]`);
      if (errors[name]) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    formError.textContent = errors.form || "";
  }

  async function place(event) {
    event.preventDefault();
    if (placeButton.disabled) return; // Enter in a field submits even then
    const order = {
      symbol, side: ticket.querySelector("input[name=side]:checked").value, type: typeInput.value,
      time_in_force: tifInput.value, quantity: qtyInput.value.trim(), price: priceInput.value.trim(),
      self_trade_prevention: stpInput.value,
    };
    const errors = checkOrder(rules, order);
    showErrors(errors);
    if (Object.keys(errors).length) return;
    const body = orderBody(order);
    const json = JSON.stringify(body);
    const id = unanswered && unanswered.body === json ? unanswered.id : newOrderId();
    unanswered = { body: json, id };
    // Before the request: its matching step's events may come before its answer.
    if (!placedHere || placedHere.clientId !== id) placedHere = { clientId: id, order: body, stopped: new Set() };
    setPlacing(true);
    try {
      const placed = await api("POST", "/orders", { ...body, client_order_id: id });
      unanswered = null;
      mergeOrder(placed);
      showErrors({});
    } catch (err) {
      if (err.status && err.status < 500) unanswered = null; // refused: nothing was placed
      const name = fieldOf(err);
      // Its message only: the code is for programs (README).
      showErrors({ [["quantity", "price", "time_in_force"].includes(name) ? name : "form"]: err.message });
    } finally {
      setPlacing(false);
    }
  }

  // One order per click: another click (or Enter) while one is on its way would place another.
  function setPlacing(placing) {
    placeButton.disabled = placing;
    placeButton.textContent = placing ? "Placing…" : "Place order";
  }

  function mergeOrder(order) {
    const known = orders.get(order.id);
    if (known && !OPEN.has(known.status) && OPEN.has(order.status)) return;
    if (known && known.updated_at > order.updated_at) return;
    orders.set(order.id, { ...known, ...order });
    renderOrders();
  }

  function onUserEvent(message) {
    if (message.kind === "subscribed" || message.kind === "resync") { loadOrders(); return; }
    if (message.kind !== "event" || !message.type.startsWith("order.")) return;
    const order = message.data;
    mergeOrder({ ...orders.get(order.id), ...order });
    const ended = message.type === "order.rejected" || message.type === "order.cancelled";
    if (ended && stoppedByPlaced(order)) placedHere.stopped.add(order.id);
    if (placedHere && placedHere.stopped.size && (placedHere.stopped.has(order.id) || order.client_order_id === placedHere.clientId)) sayPlaced();
    else if (ended || FILLED.has(message.type)) announce(orders.get(order.id) || order);
    if (FILLED.has(message.type) || (ended && order.filled_quantity)) scheduleFills();
    renderFills();
  }

  // Fill events come in bursts (an order sweeping levels): one read for them all.
  function scheduleFills() {
    if (!fillsTimer) fillsTimer = setTimeout(() => { fillsTimer = 0; readFills().catch(() => {}); }, 100);
  }

  // Each answer is all of mine among the symbol's recent trades: it replaces the last, so the
  // lines live are those a reload shows. A late answer to an earlier read is dropped.
  async function readFills() {
    const asked = ++fillsVersion;
    const answer = await api("GET", `/market/${encodeURIComponent(symbol)}/fills?limit=${KEPT_TRADES}`);
    if (answer.symbol !== symbol || asked !== fillsVersion) return;
    fills = answer.fills;
    renderFills();
  }

  /** Whether `order` is a resting order of mine that the order placed here cancelled: only an
   *  incoming order's cancel_oldest cancels a resting one for a self-trade, on the other side. */
  function stoppedByPlaced(order) {
    const placed = placedHere && placedHere.order;
    return Boolean(placed) && placed.self_trade_prevention === "cancel_oldest" && order.reason === "self_trade"
      && order.client_order_id !== placedHere.clientId && order.symbol === placed.symbol && order.side !== placed.side;
  }

  // What became of the order placed, and how many of mine it cancelled on its way.
  function sayPlaced() {
    const order = [...orders.values()].find((o) => o.client_order_id === placedHere.clientId) || placedHere.order;
    outcome.dataset.orderId = order.id || "";
    outcome.dataset.reason = "self_trade";
    fill(outcome, h("span", { className: `side-${order.side}` }, orderText(order)), " ", placedText(order),
      ` It cancelled ${counted(placedHere.stopped.size, "resting order")} of yours it would have traded with (self-trade prevention).`);
  }

  // Each step of an order of mine: a fill too, which otherwise only moved it between lists that
  // are no live regions (an order resting since long ago filled without a word).
  function announce(order) {
    const step = `${order.id} ${order.status} ${order.filled_quantity}`;
    if (announced.has(step)) return; // a resent event
    announced.add(step);
    outcome.dataset.orderId = order.id;
    outcome.dataset.reason = order.reason || "";
    fill(outcome, h("span", { className: `side-${order.side}` }, orderText(order)), " ", placedText(order));
  }

  async function loadOrders() {
    if (!symbol) return;
    try {
      // A page may be short, even empty, with more to come: one that stopped there listed 7 of
      // 16 open orders of someone with 2,500 orders, and the rest could not be cancelled here.
      for (const status of OPEN) {
        await eachPage(`/orders?symbol=${encodeURIComponent(symbol)}&status=${status}&limit=200`,
          (items) => items.forEach(mergeOrder), { maxPages: MAX_ORDER_PAGES });
      }
      await loadFills();
    } catch {
      // offline: the next subscription reloads
    }
  }

  // My recent orders of the symbol, filled or not, and my fills among its recent trades.
  // Thousands of newer orders of other symbols can leave the first pages short, even empty.
  async function loadFills() {
    let found = 0;
    await eachPage(`/orders?symbol=${encodeURIComponent(symbol)}&sort=newest&limit=${MAX_FILLS}`,
      (items) => { found += items.length; items.forEach(mergeOrder); },
      { maxPages: MAX_ORDER_PAGES, enough: () => found >= MAX_FILLS });
    await readFills();
  }

  // One line per trade of an order of mine, at its own price and time, from my fills among the
  // symbol's recent trades: the same lines live and after a reload. An order some of whose
  // trades are no longer kept has one line for all it filled, at its average price.
  function myFills() {
    const kept = new Map(); // order id -> its trades, newest first
    for (const t of fills) {
      if (!orders.has(t.order_id)) continue;
      if (!kept.has(t.order_id)) kept.set(t.order_id, []);
      kept.get(t.order_id).push(t);
    }
    const lines = [...orders.values()].filter((o) => o.symbol === symbol).flatMap((o) => {
      const mine = kept.get(o.id) || [];
      const tradedQty = mine.reduce((sum, t) => sum + t.quantity, 0);
      return tradedQty < o.filled_quantity ? [orderFill(o)] : tradeFills(o, mine, tradedQty);
    });
    return lines.sort((a, b) => b.ts - a.ts || b.seq - a.seq).slice(0, MAX_FILLS);
  }

  async function cancelOrder(id) {
    sayCancel(null);
    try {
      await api("DELETE", `/orders/${id}`);
    } catch (err) {
      if (err.code === "order_not_open") await readEnded(id, err.details);
      sayCancel(orders.get(id), err);
    }
  }

  // A 409 order_not_open: the order ended (filled, most likely) and its event was missed, so its
  // row stayed listed open with a Cancel. Read it again, and its row goes now, not at the next
  // reconnect; without an answer, the 409's status ends it.
  async function readEnded(id, details) {
    try {
      mergeOrder(await api("GET", `/orders/${id}`));
    } catch {
      const known = orders.get(id);
      if (known && details && details.status) mergeOrder({ ...known, status: details.status });
    }
  }

  function sayCancel(order, err) {
    if (!err || !order) {
      fill(cancelNote, err ? err.message : "");
      delete cancelNote.dataset.orderId;
      return;
    }
    cancelNote.dataset.orderId = order.id;
    const said = OPEN.has(order.status) ? `could not be cancelled: ${err.message}`
      : order.status === "filled" ? "filled before the cancel reached it: nothing was left to cancel." : endText(order);
    fill(cancelNote, h("span", { className: `side-${order.side}` }, orderText(order)), " ", said);
  }

  function renderOrders() {
    const open = [...orders.values()].filter((o) => o.symbol === symbol && OPEN.has(o.status))
      .sort((a, b) => b.created_at - a.created_at);
    const focused = focusedCancel();
    fill(openList, open.length ? open.map((o) => h("li", { dataset: { orderId: o.id } },
      h("span", { className: `side-${o.side}` }, o.side), ` ${o.remaining_quantity} @ ${o.price ?? "market"} `,
      h("span.muted", {}, `${o.filled_quantity}/${o.quantity} filled`), cancelButton(o)))
      : h("li.empty", {}, "No open orders."));
    for (const id of cancelButtons.keys()) if (!open.some((o) => o.id === id)) cancelButtons.delete(id);
    if (focused) keepFocus(focused);
  }

  // Named as the order was placed ("Cancel buy 10 ACME @ 5.01"): its id means nothing to a user.
  function cancelButton(o) {
    if (!cancelButtons.has(o.id)) {
      cancelButtons.set(o.id, h("button.ghost.small", { type: "button", onclick: () => cancelOrder(o.id),
        "aria-label": `Cancel ${o.side} ${o.quantity} ${o.symbol} @ ${o.price ?? "market"}` }, "Cancel"));
    }
    return cancelButtons.get(o.id);
  }

  /** The focused Cancel and its place in the list, or null when focus is elsewhere. */
  function focusedCancel() {
    const el = document.activeElement;
    return el && openList.contains(el) ? { el, index: [...openList.querySelectorAll("button")].indexOf(el) } : null;
  }

  // A redraw takes the focused button out and back (focus fell to <body>), and a cancelled
  // order's row goes with its button: focus goes back to it, or to the Cancel now in its place
  // (the next row's, or the last), or to the list's heading once none is left.
  function keepFocus({ el, index }) {
    if (el.isConnected) { el.focus(); return; }
    const buttons = [...openList.querySelectorAll("button")];
    (buttons[Math.min(index, buttons.length - 1)] || openHeading).focus();
  }

  function renderFills() {
    const mine = myFills();
    fill(fillList, mine.length ? mine.map((f) => h("li", { dataset: { orderId: f.id } },
      h("span", { className: `side-${f.side}` }, f.side), ` ${f.quantity} @ ${priceText(f.price, rules.tick_size)} `,
      h("span.muted", {}, f.note))) : h("li.empty", {}, "No fills yet."));
  }

  async function loadBook() {
    bookTimer = 0;
    const asked = ++bookVersion;
    try {
      const book = await api("GET", `/market/${encodeURIComponent(symbol)}/book?depth=${DEPTH}`);
      // A market.book event shown meanwhile is newer than this answer.
      if (book.symbol === symbol && asked === bookVersion) renderBook(book);
    } catch {
      // the next subscription asks again
    }
  }

  function scheduleBook() {
    if (!bookTimer) bookTimer = setTimeout(loadBook, 200);
  }

  // Each matching step that changes the book pushes its top levels with the step's quote: the
  // ladder drawn from them always agrees with the quote line (read back 200 ms later, it
  // disagreed with it a quarter of the time under the demo market maker).
  function showBookEvent(book) {
    bookVersion += 1;
    renderBook({ ...book, bids: book.bids.slice(0, DEPTH), asks: book.asks.slice(0, DEPTH) });
  }

  function renderBook(book) {
    const peak = Math.max(1, ...book.bids.map((l) => l.quantity), ...book.asks.map((l) => l.quantity));
    const row = (side, level) => {
      const bar = h("span.depth", { "aria-hidden": "true" });
      bar.style.width = `${(level.quantity / peak) * 100}%`;
      return h("div.level", { className: `level ${side}`, role: "row", dataset: { price: level.price } },
        bar, h("span.visually-hidden", { role: "cell" }, side === "ask" ? "Ask" : "Bid"),
        h("span.price", { role: "cell" }, level.price), h("span.qty", { role: "cell" }, formatNumber(level.quantity)));
    };
    const asks = [...book.asks].reverse().map((l) => row("ask", l));
    const bids = book.bids.map((l) => row("bid", l));
    const spread = book.asks.length && book.bids.length
      ? `spread ${(Number(book.asks[0].price) - Number(book.bids[0].price)).toFixed(decimalsOf(rules.tick_size))}` : "no spread";
    const header = h("div.visually-hidden", { role: "row" },
      ["Side", "Price", "Quantity"].map((name) => h("span", { role: "columnheader" }, name)));
    fill(ladder, header, asks.length ? asks : ladderLine("div.empty", "No asks"), ladderLine("div.spread", spread),
      bids.length ? bids : ladderLine("div.empty", "No bids"));
  }

  /** A line of the ladder that is no level (the spread, "No asks"): a row of one cell. */
  function ladderLine(tag, text) {
    return h(tag, { role: "row" }, h("span", { role: "cell", "aria-colspan": "3" }, text));
  }

  function renderTrades() {
    fill(tape, trades.length ? trades.slice(0, 30).map((t) => h("li", { dataset: { seq: t.seq } },
      h("span", { className: `side-${t.taker_side}` }, t.taker_side), // the side in words, not only its colour
      h("span", { className: `side-${t.taker_side}` }, t.price), h("span", {}, formatNumber(t.quantity)), h("span.muted", {}, formatTime(t.ts))))
      : h("li.empty.muted", {}, "No trades yet."));
    const points = [...trades].reverse().map((t) => [t.ts, Number(t.price)]);
    const span = points.length ? Math.max(10, points[points.length - 1][0] - points[0][0]) : 300;
    // The chart is drawn when a trade arrives, so its right edge is the last trade, said by its
    // time: a trader reads at a glance how old the last price is. A "now" edge would need a
    // redraw every second and, on a quiet symbol, squeeze the trades to the left of a flat line.
    const options = { windowSeconds: span, fitRange: true, tick: rules.tick_size, clock: true };
    fill(chart, points.length ? lineChart([{ name: symbol, points }], { ...options, label: `Last price of ${symbol}`, width: chart.clientWidth })
      : h("p.muted", {}, "No trades yet."));
  }

  function onMarket(message) {
    if (message.kind === "subscribed" || message.kind === "resync") { loadTrades(); scheduleBook(); return; }
    if (message.kind !== "event") return;
    if (message.type === "market.trade" && !trades.some((t) => t.seq === message.data.seq)) {
      trades.unshift(message.data);
      trades.length = Math.min(trades.length, KEPT_TRADES);
      renderTrades();
    }
    if (message.type === "market.quote") showQuote(message.data);
    if (message.type === "market.book" && message.data.symbol === symbol) showBookEvent(message.data);
  }

  function showQuote(q) {
    fill(quoteText, h("span.side-buy", {}, `bid ${q.best_bid ?? "–"}`), " · ", h("span.side-sell", {}, `ask ${q.best_ask ?? "–"}`),
      ` · last ${q.last_price ?? "–"} · volume ${formatNumber(q.volume)}`);
  }

  async function loadTrades() {
    try {
      const [list, quote] = await Promise.all([
        api("GET", `/market/${encodeURIComponent(symbol)}/trades?limit=${KEPT_TRADES}`),
        api("GET", `/market/${encodeURIComponent(symbol)}`)]);
      if (list.symbol !== symbol) return;
      const seen = new Set(trades.map((t) => t.seq));
      trades = [...trades, ...list.trades.filter((t) => !seen.has(t.seq))].sort((a, b) => b.seq - a.seq)
        .slice(0, KEPT_TRADES);
      renderTrades();
      showQuote(quote);
    } catch {
      // offline: the next subscription reloads
    }
  }

  function switchTo(name) {
    if (unsubscribe) unsubscribe();
    symbol = name;
    rules = symbols.find((s) => s.symbol === name);
    picker.value = name;
    address("market", name);
    addressNote.textContent = ""; // about the link that opened the page, not this symbol
    trades = [];
    fills = [];
    fillsVersion += 1;
    priceInput.value = ""; // a price of another symbol means nothing here
    fill(rulesText, rulesLine(rules));
    fill(ladder, ladderLine("div.muted", "Loading…"));
    fill(tape);
    fill(chart);
    showErrors({});
    fill(outcome); // it named the other symbol's order
    sayCancel(null);
    delete outcome.dataset.orderId;
    delete outcome.dataset.reason;
    renderOrders();
    renderFills();
    unsubscribe = live.subscribe(`market.${name}`, onMarket);
    loadOrders();
  }

  // The symbol is in the address (#/market/<symbol>), as the chat's room: a reload, or the link
  // kept, opens it again. One the market does not list (gone, mistyped) is said, naming it, and
  // the address names the symbol shown instead: the page kept showing another, without a word.
  const listed = (name) => symbols.some((s) => s.symbol === name);

  function sayUnlisted(asked) {
    if (!asked || listed(asked)) return;
    const meant = symbols.find((s) => s.symbol.toLowerCase() === asked.toLowerCase());
    const hint = meant ? ` (symbols are case-sensitive: ${meant.symbol})` : "";
    addressNote.textContent = `No symbol ${JSON.stringify(asked)} here${hint}; showing ${symbol}.`;
  }

  window.addEventListener("jobcast:page", (e) => {
    if (e.detail !== "market" || !symbol) return;
    const asked = addressed("market");
    if (listed(asked) && asked !== symbol) switchTo(asked); // a link
    else {
      address("market", symbol);
      sayUnlisted(asked);
      renderTrades(); // charts are drawn at their shown size: redraw when the page appears
    }
  });
  live.subscribe("user.me", onUserEvent);
  // The symbol list, asked again until it comes: the page is empty without it, and a failed
  // first answer (offline at start, a 5xx) was thrown uncaught and left it so until a reload.
  function loadSymbols(wait = 1000) {
    api("GET", "/market").then((answer) => {
      symbols = answer.symbols;
      fill(picker, symbols.map((s) => h("option", { value: s.symbol }, s.symbol)));
      fill(rulesText, symbols.length ? "" : "No symbols are traded.");
      if (!symbols.length) return;
      const asked = addressed("market");
      switchTo(listed(asked) ? asked : symbols[0].symbol);
      sayUnlisted(asked);
    }).catch((err) => {
      fill(rulesText, `The symbols could not be read (${err.message}); trying again…`);
      setTimeout(() => loadSymbols(Math.min(wait * 2, 15000)), wait);
    });
  }
  loadSymbols();
}

function orderText(o) {
  const kind = o.type === "market" ? "Market" : o.time_in_force === "IOC" ? "IOC" : "Limit";
  return `${kind} ${o.side} ${o.quantity} ${o.symbol}${o.price ? ` @ ${o.price}` : ""}`;
}

// What ended an order, in words; the reasons are those of the Order schema.
function endText(o) {
  const rest = o.quantity - o.filled_quantity;
  const part = o.filled_quantity ? `${o.filled_quantity} filled; the other ${rest} cancelled` : "cancelled";
  switch (o.reason) {
    case "no_liquidity": return "rejected: nothing on the other side of the book to trade with.";
    case "ioc_remainder": return `${part}: nothing more to trade with at that price (IOC does not rest).`;
    case "market_remainder": return `${part}: the other side of the book ran out.`;
    case "self_trade": return `${part}: it would have traded with an order of yours (self-trade prevention).`;
    case "cancel_requested": return `${part}, as asked.`;
    default: return `${o.status}${o.reason ? ` (${o.reason})` : ""}.`;
  }
}

// Where an order stands, in words; one not yet known to the page was just placed.
function placedText(o) {
  switch (o.status) {
    case undefined: return "placed.";
    case "open": return "rests on the book.";
    case "partially_filled": return `${o.filled_quantity} filled; the other ${o.remaining_quantity} rest on the book.`;
    case "filled": return "filled.";
    default: return endText(o);
  }
}

// Each trade of `order` (newest first) as a fill line, saying what the order was after it. The
// order's record may lag the tape by an event: what its trades add up to is then what filled.
function tradeFills(order, orderTrades, tradedQty) {
  let filled = Math.max(order.filled_quantity, tradedQty);
  return orderTrades.map((t) => {
    const status = filled >= order.quantity ? "filled" : "partially filled";
    filled -= t.quantity;
    return { id: order.id, side: order.side, quantity: t.quantity, price: t.price, ts: t.ts, seq: t.seq,
      note: `${status} · ${formatTime(t.ts)}` };
  });
}

// All an order filled as one line, at its average price, when its trades are no longer all kept.
// Its last update is its last fill only once it is filled: one cancelled (or still open) after a
// fill says how much filled, not a time or a status that read as the fill's own.
function orderFill(order) {
  const note = order.status === "filled" ? `filled · ${formatTime(order.updated_at)}`
    : `${order.filled_quantity} of ${order.quantity} filled · order ${order.status.replace("_", " ")}`;
  return { id: order.id, side: order.side, quantity: order.filled_quantity, price: order.average_price,
    ts: order.updated_at, seq: 0, note };
}

// A price as the tape shows it (the tick's decimals); an average between ticks keeps the up to
// two more decimals the api gives it ("101.255").
function priceText(value, tick) {
  const places = decimalsOf(tick);
  const needed = (String(value).split(".")[1] || "").replace(/0+$/, "").length;
  return needed <= places ? Number(value).toFixed(places) : String(value);
}

/** A fresh client_order_id: 128 random bits in hex (crypto.randomUUID needs a secure context,
 *  which an api served over plain HTTP to another host is not). */
function newOrderId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
