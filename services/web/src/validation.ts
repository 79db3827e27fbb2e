// The orders API's rules for a new order, checked before it is sent, with the API's own
// wording (services/orders/orders_service/schemas.py, domain.py; platform_common/types.py).
// The API checks them again: this only saves a round trip and says what is wrong at once.

import type { Instrument, OrderCreate, OrderType, Side } from "./api";

export const ISIN_PATTERN = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/;
// Quantity: up to 12 integer digits and 6 decimals, greater than zero.
export const QUANTITY_PATTERN = /^[0-9]{1,12}(\.[0-9]{1,6})?$/;
// Price: up to 10 integer digits and 8 decimals, greater than zero.
export const PRICE_PATTERN = /^[0-9]{1,10}(\.[0-9]{1,8})?$/;
const PRICE_SCALE = 8;

export interface OrderDraft {
  side: Side | "";
  orderType: OrderType;
  quantity: string;
  limitPrice: string;
}

export type OrderErrors = Partial<Record<"isin" | "side" | "quantity" | "limit_price" | "order_type", string>>;

/** A decimal string as an integer count of 10^-scale units (exact; no floating point). */
export function toUnits(value: string, scale: number): bigint {
  const [whole = "0", fraction = ""] = value.split(".");
  if (fraction.length > scale) throw new RangeError(`${value} has more than ${scale} decimals`);
  return BigInt(whole + fraction.padEnd(scale, "0"));
}

export function isMultipleOf(price: string, tick: string): boolean {
  const tickUnits = toUnits(normalise(tick, PRICE_SCALE), PRICE_SCALE);
  if (tickUnits === 0n) return true;
  return toUnits(price, PRICE_SCALE) % tickUnits === 0n;
}

/** "0.01000000" -> "0.01": instruments answer prices with 8 decimals, trailing zeros. */
function normalise(value: string, scale: number): string {
  const [whole = "0", fraction = ""] = value.replace(/^-/, "").split(".");
  const kept = fraction.slice(0, scale).replace(/0+$/, "");
  return kept ? `${whole}.${kept}` : whole;
}

export function validateOrder(instrument: Instrument, draft: OrderDraft): OrderErrors {
  const errors: OrderErrors = {};
  if (!ISIN_PATTERN.test(instrument.isin)) {
    errors.isin = `${instrument.isin} is not an ISIN (two letters, nine letters or digits, a check digit).`;
  } else if (instrument.status !== "active") {
    errors.isin = `Instrument ${instrument.isin} is inactive.`;
  }
  if (draft.side !== "buy" && draft.side !== "sell") {
    errors.side = "Choose buy or sell.";
  }
  const quantity = draft.quantity.trim();
  if (!QUANTITY_PATTERN.test(quantity)) {
    errors.quantity = "Quantity is a number with up to 12 digits and 6 decimals, e.g. 100 or 2.5.";
  } else if (toUnits(quantity, 6) === 0n) {
    errors.quantity = "Quantity must be greater than zero.";
  }
  const price = draft.limitPrice.trim();
  if (draft.orderType === "limit") {
    if (price === "") {
      errors.limit_price = "limit_price is required for limit orders.";
    } else if (!PRICE_PATTERN.test(price)) {
      errors.limit_price = "The limit price is a number with up to 10 digits and 8 decimals.";
    } else if (toUnits(price, PRICE_SCALE) === 0n) {
      errors.limit_price = "The limit price must be greater than zero.";
    } else if (!isMultipleOf(price, instrument.tick_size)) {
      errors.limit_price = `limit_price ${price} is not a multiple of tick size ${normalise(instrument.tick_size, PRICE_SCALE)}.`;
    }
  } else {
    if (price !== "") errors.limit_price = "limit_price is not allowed for market orders.";
    if (instrument.reference_price === null) {
      errors.order_type =
        "Market orders need a reference price for the risk check; none is known. Place a limit order.";
    }
  }
  return errors;
}

export function toOrderCreate(instrument: Instrument, draft: OrderDraft): OrderCreate {
  const order: OrderCreate = {
    isin: instrument.isin,
    side: draft.side as Side,
    order_type: draft.orderType,
    quantity: draft.quantity.trim(),
  };
  if (draft.orderType === "limit") order.limit_price = draft.limitPrice.trim();
  return order;
}
