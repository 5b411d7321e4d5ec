// The order ticket's checks, mirroring the server's rules (GET /market) so most mistakes are
// caught before a request; the server stays the judge and its answer is shown per field.

import { decimalsOf } from "./dom.js";

const DECIMAL = /^\d+(\.\d+)?$/;
const WHOLE = /^\d+$/;

// A minus sign makes a figure below 0, not a non-number: said apart, "-5" and "abc" are told
// what is wrong with them, not both to enter a price above 0.
const unsigned = (text) => text.replace(/^-/, "");

/** `text` in units of 10^-places as a BigInt, or null if it has more significant places. */
function toUnits(text, places) {
  const [whole, frac = ""] = text.split(".");
  if (frac.length > places && /[^0]/.test(frac.slice(places))) return null;
  return BigInt(whole + frac.slice(0, places).padEnd(places, "0"));
}

/** {field: message} for everything wrong with the order; empty when it may be sent. */
export function checkOrder(rules, order) {
  const errors = {};
  // Digits only: Number() would also take "1e1", "0x10" or " 10 " and send another figure.
  const quantity = String(order.quantity);
  const qty = Number(quantity); // read once the text is digits, with or without a minus sign
  if (!quantity) errors.quantity = "An order needs a quantity.";
  else if (!WHOLE.test(unsigned(quantity))) errors.quantity = "Enter a whole number: digits only.";
  else if (qty <= 0) errors.quantity = "Enter a quantity above 0.";
  else if (qty < rules.min_quantity) errors.quantity = `At least ${rules.min_quantity}.`;
  else if (qty > rules.max_quantity) errors.quantity = `At most ${rules.max_quantity}.`;
  else if (qty % rules.lot_size) errors.quantity = `A multiple of the lot size ${rules.lot_size}.`;
  if (order.type === "market") return errors;
  const price = String(order.price ?? "").trim();
  if (!price) errors.price = "A limit order needs a price.";
  else if (!DECIMAL.test(unsigned(price))) errors.price = "Enter a number: digits with an optional decimal point.";
  else if (Number(price) <= 0) errors.price = "Enter a price above 0.";
  else {
    const places = Math.max(decimalsOf(rules.tick_size), decimalsOf(price));
    const units = toUnits(price, places);
    const tick = toUnits(rules.tick_size, places);
    if (units === null || units % tick !== 0n) errors.price = `On the tick: a multiple of ${rules.tick_size}.`;
    else if (!errors.quantity && Number(price) * qty > Number(rules.max_notional)) {
      errors.price = `Price × quantity must be at most ${rules.max_notional}.`;
    }
  }
  return errors;
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
