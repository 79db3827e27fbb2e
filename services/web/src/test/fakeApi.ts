// A fake gateway for component tests: answers the paths the SPA calls and records requests.
import type { Instrument, Notification, Order } from "../api";

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export const APPLE: Instrument = {
  isin: "US0378331005",
  full_name: "Apple Inc. common stock",
  cfi_code: "ESVUFR",
  cfi_category: "E",
  issuer_lei: "HWUPKR0MPOU8FGXBT394",
  currency: "USD",
  venue_mic: "XNAS",
  tick_size: "0.01000000",
  reference_price: "190.00000000",
  status: "active",
  version: 1,
  updated_at: "2026-12-01T10:00:00Z",
};

export function order(overrides: Partial<Order> = {}): Order {
  return {
    id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    user_id: "trader-1",
    isin: APPLE.isin,
    side: "buy",
    order_type: "limit",
    quantity: "10.000000",
    limit_price: "190.00000000",
    currency: "USD",
    filled_quantity: "0.000000",
    average_fill_price: null,
    status: "NEW",
    reject_reason: null,
    version: 1,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
    ...overrides,
  };
}

export const NOTE: Notification = {
  id: "n1",
  user_id: "trader-1",
  kind: "order.filled",
  title: "Order filled",
  body: "Your buy of 10 US0378331005 filled at 190.00.",
  reference: "0f8fad5b-d9cb-469f-a165-70867728950e",
  occurred_at: "2026-12-01T10:01:00Z",
  created_at: "2026-12-01T10:01:00Z",
};

type Handler = (req: Recorded) => { status: number; body: unknown; contentType?: string } | undefined;

export function fakeFetch(handler: Handler) {
  const requests: Recorded[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = Object.fromEntries(
      Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const req: Recorded = {
      method: init?.method ?? "GET",
      url: String(input),
      headers,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const answer = handler(req) ?? {
      status: 404,
      body: { type: "about:blank", title: "Not Found", status: 404, detail: `no fake for ${req.url}` },
      contentType: "application/problem+json",
    };
    const json = answer.contentType ?? (answer.status < 400 ? "application/json" : "application/problem+json");
    return new Response(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": json },
    });
  };
  return { impl: impl as typeof fetch, requests };
}
