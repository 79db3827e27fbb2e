import { describe, expect, it } from "vitest";
import { APPLE } from "./test/fakeApi";
import { isMultipleOf, toOrderCreate, toUnits, validateOrder, type OrderDraft } from "./validation";

const limit = (quantity: string, limitPrice: string): OrderDraft => ({ side: "buy", orderType: "limit", quantity, limitPrice });

describe("validateOrder mirrors the orders API", () => {
  it("accepts a limit order on the tick grid", () => {
    expect(validateOrder(APPLE, limit("10", "190.05"))).toEqual({});
  });

  it.each([
    ["0", "Quantity must be greater than zero."],
    ["0.000000", "Quantity must be greater than zero."],
    ["1.0000001", "up to 12 digits and 6 decimals"],
    ["1234567890123", "up to 12 digits and 6 decimals"],
    ["-5", "up to 12 digits and 6 decimals"],
    ["1e3", "up to 12 digits and 6 decimals"],
    ["", "up to 12 digits and 6 decimals"],
  ])("refuses quantity %j", (quantity, message) => {
    expect(validateOrder(APPLE, limit(quantity, "190")).quantity).toContain(message);
  });

  it.each(["999999999999", "0.000001", "12.5"])("accepts quantity %j", (quantity) => {
    expect(validateOrder(APPLE, limit(quantity, "190")).quantity).toBeUndefined();
  });

  it("requires a limit price for limit orders", () => {
    expect(validateOrder(APPLE, limit("1", "")).limit_price).toBe("limit_price is required for limit orders.");
  });

  it("refuses a price off the tick grid, with the API's wording", () => {
    expect(validateOrder(APPLE, limit("1", "190.005")).limit_price).toBe(
      "limit_price 190.005 is not a multiple of tick size 0.01.",
    );
  });

  it.each(["0", "0.00", "12345678901", "1.123456789", "abc"])("refuses limit price %j", (price) => {
    expect(validateOrder(APPLE, limit("1", price)).limit_price).toBeDefined();
  });

  it("refuses a limit price on a market order", () => {
    const draft: OrderDraft = { side: "sell", orderType: "market", quantity: "1", limitPrice: "190" };
    expect(validateOrder(APPLE, draft).limit_price).toBe("limit_price is not allowed for market orders.");
  });

  it("refuses a market order without a reference price for the risk check", () => {
    const draft: OrderDraft = { side: "sell", orderType: "market", quantity: "1", limitPrice: "" };
    expect(validateOrder({ ...APPLE, reference_price: null }, draft).order_type).toContain("reference price");
    expect(validateOrder(APPLE, draft)).toEqual({});
  });

  it("requires a side", () => {
    expect(validateOrder(APPLE, { ...limit("1", "190"), side: "" }).side).toBe("Choose buy or sell.");
  });

  it("refuses inactive instruments", () => {
    expect(validateOrder({ ...APPLE, status: "inactive" }, limit("1", "190")).isin).toBe(
      "Instrument US0378331005 is inactive.",
    );
  });

  it("builds the body the API takes: no limit_price on market orders", () => {
    expect(toOrderCreate(APPLE, { side: "buy", orderType: "market", quantity: " 5 ", limitPrice: "" })).toEqual({
      isin: APPLE.isin, side: "buy", order_type: "market", quantity: "5",
    });
    expect(toOrderCreate(APPLE, limit("5", "190.01")).limit_price).toBe("190.01");
  });
});

describe("exact decimals", () => {
  it("scales without floating point", () => {
    expect(toUnits("0.1", 8) + toUnits("0.2", 8)).toBe(toUnits("0.3", 8));
    expect(isMultipleOf("0.3", "0.1")).toBe(true);
    expect(isMultipleOf("100.25", "0.25000000")).toBe(true);
    expect(isMultipleOf("100.20", "0.25")).toBe(false);
  });
});
