// The SPA against the services' generated OpenAPI (services/<svc>/openapi.json): every call it
// makes exists there, and its order rules are the orders API's own patterns and enums.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ApiClient, OPEN_STATUSES } from "./api";
import { fakeFetch } from "./test/fakeApi";
import { ISIN_PATTERN, PRICE_PATTERN, QUANTITY_PATTERN } from "./validation";

type Spec = { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, any> } };
const spec = (service: string): Spec =>
  JSON.parse(readFileSync(resolve(__dirname, "../..", service, "openapi.json"), "utf8")) as Spec;

/** "/orders/v1/orders/abc/cancel" -> ["orders", "/v1/orders/{order_id}/cancel"] if declared. */
function declared(method: string, url: string): boolean {
  const { pathname } = new URL(url);
  const [, service = "", ...rest] = pathname.split("/");
  const path = `/${rest.join("/")}`;
  return Object.entries(spec(service).paths).some(([template, ops]) => {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    return pattern.test(path) && method.toLowerCase() in ops;
  });
}

describe("the SPA's calls exist in the services' OpenAPI", () => {
  it("each method and path, behind the gateway's service prefix", async () => {
    const fake = fakeFetch(() => ({ status: 200, body: {} }));
    const client = new ApiClient("https://gw.example.net", { username: "u", password: "p", subscriptionKey: "k" }, fake.impl);
    await client.me();
    await client.notifications();
    await client.searchInstruments("a");
    await client.instrument("US0378331005");
    await client.orders("NEW");
    await client.placeOrder({ isin: "US0378331005", side: "buy", order_type: "market", quantity: "1" }, "k");
    await client.cancelOrder("o1");
    expect(fake.requests).toHaveLength(7);
    for (const request of fake.requests) {
      expect(declared(request.method, request.url), `${request.method} ${request.url}`).toBe(true);
    }
  });
});

describe("order rules are the orders API's", () => {
  const schemas = spec("orders").components.schemas;
  const create = schemas.OrderCreate.properties;

  it("ISIN, quantity and price patterns", () => {
    expect(ISIN_PATTERN.source).toBe(create.isin.pattern);
    expect(QUANTITY_PATTERN.source).toBe(create.quantity.anyOf[0].pattern);
    expect(PRICE_PATTERN.source).toBe(create.limit_price.anyOf[0].pattern);
  });

  it("sides, types and states", () => {
    expect(schemas.Side.enum).toEqual(["buy", "sell"]);
    expect(schemas.OrderType.enum).toEqual(["market", "limit"]);
    expect(schemas.OrderStatus.enum).toEqual(
      expect.arrayContaining([...OPEN_STATUSES, "FILLED", "CANCELLED", "REJECTED"]),
    );
    expect(schemas.OrderStatus.enum).toHaveLength(6);
  });

  it("the body takes exactly the fields the SPA sends", () => {
    expect(Object.keys(create).sort()).toEqual(["isin", "limit_price", "order_type", "quantity", "side"]);
    expect(schemas.OrderCreate.additionalProperties).toBe(false);
  });
});
