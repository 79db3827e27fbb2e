// The platform's API as the SPA sees it: every call goes through the gateway with the
// caller's Basic credentials, the subscription key and a correlation id (common contract).

export interface Credentials {
  username: string;
  password: string;
  subscriptionKey: string;
}

/** RFC 9457 problem details, as the services and the gateway answer errors. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string | null;
  instance?: string | null;
  errors?: FieldError[] | null;
  correlationId?: string;
}

export interface FieldError {
  loc?: (string | number)[];
  msg?: string;
  field?: string;
  message?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.problem = problem;
  }
}

export type Side = "buy" | "sell";
export type OrderType = "market" | "limit";
export type OrderStatus =
  | "NEW"
  | "ACCEPTED"
  | "PARTIALLY_FILLED"
  | "FILLED"
  | "CANCELLED"
  | "REJECTED";
export const OPEN_STATUSES: readonly OrderStatus[] = ["NEW", "ACCEPTED", "PARTIALLY_FILLED"];

export interface Instrument {
  isin: string;
  full_name: string;
  cfi_code: string;
  cfi_category: string;
  issuer_lei: string;
  currency: string;
  venue_mic: string;
  tick_size: string;
  reference_price: string | null;
  status: "active" | "inactive";
  version: number;
  updated_at: string;
}

export interface Order {
  id: string;
  user_id: string;
  isin: string;
  side: Side;
  order_type: OrderType;
  quantity: string;
  limit_price: string | null;
  currency: string;
  filled_quantity: string;
  average_fill_price: string | null;
  status: OrderStatus;
  reject_reason: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface OrderCreate {
  isin: string;
  side: Side;
  order_type: OrderType;
  quantity: string;
  limit_price?: string;
}

export interface Notification {
  id: string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  reference: string | null;
  occurred_at: string;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Caller {
  caller_id: string;
  forwarded_roles: string[];
  account: { id: string; display_name: string; email: string; roles: string[] } | null;
}

/** Basic credentials in UTF-8 (RFC 7617), which btoa alone cannot encode. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

export function newCorrelationId(): string {
  return crypto.randomUUID();
}

type Fetch = typeof fetch;

export class ApiClient {
  private readonly baseUrl: string;
  private readonly credentials: Credentials;
  private readonly fetchImpl: Fetch;

  constructor(baseUrl: string, credentials: Credentials, fetchImpl?: Fetch) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.credentials = credentials;
    // Bound so that window.fetch is not called with another `this`.
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  me(): Promise<Caller> {
    return this.request("GET", "/users/v1/me");
  }

  notifications(limit = 50): Promise<Page<Notification>> {
    return this.request("GET", `/users/v1/me/notifications?limit=${limit}`);
  }

  searchInstruments(query: string, limit = 20): Promise<Page<Instrument>> {
    const params = new URLSearchParams({ limit: String(limit), status: "active" });
    if (query.trim()) params.set("q", query.trim());
    return this.request("GET", `/products/v1/instruments?${params.toString()}`);
  }

  instrument(isin: string): Promise<Instrument> {
    return this.request("GET", `/products/v1/instruments/${encodeURIComponent(isin)}`);
  }

  orders(status?: OrderStatus, limit = 50): Promise<Page<Order>> {
    const params = new URLSearchParams({ limit: String(limit) });
    if (status) params.set("status", status);
    return this.request("GET", `/orders/v1/orders?${params.toString()}`);
  }

  /** One idempotency key per submission: a retried request cannot place a second order. */
  placeOrder(order: OrderCreate, idempotencyKey: string): Promise<Order> {
    return this.request("POST", "/orders/v1/orders", order, { "Idempotency-Key": idempotencyKey });
  }

  cancelOrder(orderId: string): Promise<Order> {
    return this.request("POST", `/orders/v1/orders/${encodeURIComponent(orderId)}/cancel`);
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const correlationId = newCorrelationId();
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json",
      Authorization: basicAuthorization(this.credentials.username, this.credentials.password),
      "Ocp-Apim-Subscription-Key": this.credentials.subscriptionKey,
      "X-Correlation-Id": correlationId,
      ...extraHeaders,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
      });
    } catch (error) {
      throw new ApiError({
        type: "about:blank",
        title: "The platform could not be reached",
        status: 0,
        detail: `${error instanceof Error ? error.message : String(error)}. Check the network and try again.`,
        correlationId,
      });
    }
    if (response.ok) {
      return (await response.json()) as T;
    }
    throw new ApiError(await readProblem(response, correlationId));
  }
}

/** The problem details of an error response, or a plain one built from its status. */
export async function readProblem(response: Response, correlationId: string): Promise<Problem> {
  const echoed = response.headers.get("X-Correlation-Id") ?? correlationId;
  const text = await response.text();
  try {
    const data: unknown = JSON.parse(text);
    if (data && typeof data === "object" && "title" in data) {
      const problem = data as Partial<Problem>;
      return {
        type: typeof problem.type === "string" ? problem.type : "about:blank",
        title: String(problem.title),
        status: typeof problem.status === "number" ? problem.status : response.status,
        detail: typeof problem.detail === "string" ? problem.detail : null,
        instance: typeof problem.instance === "string" ? problem.instance : null,
        errors: Array.isArray(problem.errors) ? problem.errors : null,
        correlationId: echoed,
      };
    }
  } catch {
    // Not JSON: fall through to a problem built from the status line.
  }
  return {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text.trim().slice(0, 300) || null,
    correlationId: echoed,
  };
}

/** "isin: Instrument X is inactive." from one entry of a problem's `errors`. */
export function describeFieldError(error: FieldError): string {
  const where =
    error.field ??
    (Array.isArray(error.loc) ? error.loc.filter((p) => p !== "body").join(".") : "");
  const what = error.msg ?? error.message ?? JSON.stringify(error);
  return where ? `${where}: ${what}` : what;
}
