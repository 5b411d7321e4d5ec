// The order ticket's checks, mirroring the server's rules (GET /market) so most mistakes are
// caught before a request; the server stays the judge and its answer is shown per field.

import { decimalsOf, formatDecimal, formatNumber } from "./dom.js";

// A figure as people type it: a sign, and digits with one decimal point anywhere (".5", "5.",
// "+5"). The server takes fewer spellings of the same numbers (a price is "-?digits(.digits)?",
// a quantity a JSON integer), so the ticket reads these and sends the server's spelling. Not
// exponents, commas or spaces: Number() would read "1e1", "0x10" or " 10 " as another figure.
const FIGURE = /^([+-]?)(\d*)(?:\.(\d*))?$/;
// The server's bounds on a price's digits (PRICE_PATTERN in jobcast/orders/symbols.py).
const MAX_WHOLE_DIGITS = 15;
const MAX_DECIMALS = 12;

/** `text` spelt as the server takes a decimal ("0.5" for ".5", "5" for "+5." or "5.00"), or
 *  null when it is not a number. The sign stays: "-5" is a figure below 0, not a non-number. */
export function plainDecimal(text) {
  const parts = FIGURE.exec(text);
  if (!parts || !(parts[2] || parts[3])) return null;
  const whole = parts[2].replace(/^0+(?=\d)/, "") || "0";
  const frac = (parts[3] || "").replace(/0+$/, "");
  return `${parts[1] === "-" ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

const isWhole = (plain) => !plain.includes(".");

/** What is wrong with the digits of a plain price, past the server's bounds, or "". */
function digitsError(plain) {
  const [whole, frac = ""] = plain.replace(/^-/, "").split(".");
  if (whole.length > MAX_WHOLE_DIGITS) return `At most ${MAX_WHOLE_DIGITS} digits before the decimal point.`;
  if (frac.length > MAX_DECIMALS) return `At most ${MAX_DECIMALS} digits after the decimal point.`;
  return "";
}

/** `text` in units of 10^-places as a BigInt, or null if it has more significant places. */
function toUnits(text, places) {
  const [whole, frac = ""] = text.split(".");
  if (frac.length > places && /[^0]/.test(frac.slice(places))) return null;
  return BigInt(whole + frac.slice(0, places).padEnd(places, "0"));
}

/** What is wrong with a typed price that is no number. A comma in one is a decimal comma or a
 *  thousands separator, by locale ("1,5", "1,500"): which one was meant is not guessed. */
function notANumber(typed) {
  if (typed.includes(",") && plainDecimal(typed.replaceAll(",", "")) !== null) {
    return "Use a point for decimals (1.5) and no thousands separator (1500).";
  }
  return "Enter a number: digits with an optional decimal point.";
}

/** The symbol's rules as the market's head shows them, every figure's digits grouped. */
export function rulesLine(rules) {
  const qty = `${formatNumber(rules.min_quantity)}–${formatNumber(rules.max_quantity)}`;
  return `tick ${formatDecimal(rules.tick_size)} · lot ${formatNumber(rules.lot_size)} · qty ${qty}`;
}

/** {field: message} for everything wrong with the order; empty when it may be sent. */
export function checkOrder(rules, order) {
  const errors = {};
  const quantity = String(order.quantity).trim();
  const plainQty = plainDecimal(quantity);
  const qty = Number(plainQty); // read once the text is a plain number
  if (!quantity) errors.quantity = "An order needs a quantity.";
  else if (plainQty === null || !isWhole(plainQty)) errors.quantity = "Enter a whole number: digits only.";
  else if (qty <= 0) errors.quantity = "Enter a quantity above 0.";
  else if (qty < rules.min_quantity) errors.quantity = `At least ${formatNumber(rules.min_quantity)}.`;
  else if (qty > rules.max_quantity) errors.quantity = `At most ${formatNumber(rules.max_quantity)}.`;
  else if (qty % rules.lot_size) errors.quantity = `A multiple of the lot size ${formatNumber(rules.lot_size)}.`;
  if (order.type === "market") return errors;
  const typed = String(order.price ?? "").trim();
  const price = plainDecimal(typed);
  if (!typed) errors.price = "A limit order needs a price.";
  else if (price === null) errors.price = notANumber(typed);
  else if (Number(price) <= 0) errors.price = "Enter a price above 0.";
  else if (digitsError(price)) errors.price = digitsError(price);
  else {
    const places = Math.max(decimalsOf(rules.tick_size), decimalsOf(price));
    const units = toUnits(price, places);
    const tick = toUnits(rules.tick_size, places);
    if (units === null || units % tick !== 0n) errors.price = `On the tick: a multiple of ${rules.tick_size}.`;
    else if (!errors.quantity && Number(price) * qty > Number(rules.max_notional)) {
      errors.price = `Price × quantity must be at most ${formatDecimal(rules.max_notional)}.`;
    }
  }
  return errors;
}

/** The POST /orders body for an order `checkOrder` passed: its figures as the server takes them. */
export function orderBody(order) {
  const body = { ...order, quantity: Number(plainDecimal(String(order.quantity).trim())) };
  if (order.type === "market") delete body.price;
  else body.price = plainDecimal(String(order.price).trim());
  return body;
}

/** The form field a server error is about: from `details.field` or the error code. */
export function fieldOf(error) {
  const details = error.details;
  if (details && typeof details.field === "string") return details.field;
  if (Array.isArray(details) && details[0] && details[0].field) return details[0].field.replace(/^body\./, "");
  if (/^quantity/.test(error.code)) return "quantity";
  if (/price|notional/.test(error.code)) return "price";
  if (error.code === "market_order_not_ioc") return "time_in_force";
  return "form";
}
