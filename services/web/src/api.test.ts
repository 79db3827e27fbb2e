import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, basicAuthorization, describeFieldError } from "./api";
import { fakeFetch } from "./test/fakeApi";

const CREDS = { username: "trader@example.com", password: "s3cret pässword", subscriptionKey: "key-123" };

describe("ApiClient", () => {
  it("sends Basic credentials, the subscription key and a fresh correlation id", async () => {
    const fake = fakeFetch(() => ({ status: 200, body: { caller_id: "t1", forwarded_roles: [], account: null } }));
    const client = new ApiClient("https://gw.example.net/", CREDS, fake.impl);
    await client.me();
    await client.me();
    const [first, second] = fake.requests;
    expect(first?.url).toBe("https://gw.example.net/users/v1/me");
    expect(first?.headers["authorization"]).toBe(basicAuthorization(CREDS.username, CREDS.password));
    expect(first?.headers["ocp-apim-subscription-key"]).toBe("key-123");
    expect(first?.headers["x-correlation-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(second?.headers["x-correlation-id"]).not.toBe(first?.headers["x-correlation-id"]);
  });

  it("encodes credentials as UTF-8 (RFC 7617)", () => {
    const decoded = atob(basicAuthorization("a@example.com", "pässword").slice("Basic ".length));
    const bytes = Uint8Array.from(decoded, (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe("a@example.com:pässword");
  });

  it("calls the gateway paths of each service", async () => {
    const fake = fakeFetch(() => ({ status: 200, body: { items: [], total: 0, limit: 20, offset: 0 } }));
    const client = new ApiClient("https://gw.example.net", CREDS, fake.impl);
    await client.searchInstruments("apple");
    await client.orders("FILLED");
    await client.notifications();
    expect(fake.requests.map((r) => r.url)).toEqual([
      "https://gw.example.net/products/v1/instruments?limit=20&status=active&q=apple",
      "https://gw.example.net/orders/v1/orders?limit=50&status=FILLED",
      "https://gw.example.net/users/v1/me/notifications?limit=50",
    ]);
  });

  it("places an order with its idempotency key and a JSON body", async () => {
    const fake = fakeFetch(() => ({ status: 201, body: { id: "o1" } }));
    const client = new ApiClient("https://gw.example.net", CREDS, fake.impl);
    await client.placeOrder({ isin: "US0378331005", side: "buy", order_type: "market", quantity: "1" }, "k-1");
    expect(fake.requests[0]?.method).toBe("POST");
    expect(fake.requests[0]?.headers["idempotency-key"]).toBe("k-1");
    expect(fake.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(fake.requests[0]?.body).toEqual({ isin: "US0378331005", side: "buy", order_type: "market", quantity: "1" });
  });

  it("turns problem details into an ApiError with the correlation id", async () => {
    const fake = fakeFetch(() => ({
      status: 422,
      body: {
        type: "https://platform.example/problems/validation",
        title: "Order rejected by validation",
        status: 422,
        detail: "limit_price 1.005 is not a multiple of tick size 0.01.",
        errors: [{ loc: ["body", "limit_price"], msg: "not a multiple", type: "order_rule" }],
      },
    }));
    const client = new ApiClient("https://gw.example.net", CREDS, fake.impl);
    const error = await client.orders().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const problem = (error as ApiError).problem;
    expect(problem.title).toBe("Order rejected by validation");
    expect(problem.status).toBe(422);
    expect(problem.correlationId).toBe(fake.requests[0]?.headers["x-correlation-id"]);
    expect(describeFieldError(problem.errors![0]!)).toBe("limit_price: not a multiple");
  });

  it("builds a plain problem from a non-JSON error", async () => {
    const fake = fakeFetch(() => ({ status: 502, body: "<html>Bad gateway</html>", contentType: "text/html" }));
    const error = (await new ApiClient("https://gw", CREDS, fake.impl).me().catch((e: unknown) => e)) as ApiError;
    expect(error.problem.status).toBe(502);
    expect(error.problem.detail).toBe("<html>Bad gateway</html>");
  });

  it("says plainly when the platform cannot be reached", async () => {
    const failing = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    const error = (await new ApiClient("https://gw", CREDS, failing).me().catch((e: unknown) => e)) as ApiError;
    expect(error.problem.title).toBe("The platform could not be reached");
    expect(error.problem.status).toBe(0);
  });
});
