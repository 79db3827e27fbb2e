import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { APPLE, fakeFetch, NOTE, order, type Recorded } from "./test/fakeApi";

const GW = "https://gw.example.net";
const ME = { caller_id: "trader-1", forwarded_roles: ["trader"], account: { id: "trader-1", display_name: "Tess Trader", email: "tess@example.com", roles: ["trader"] } };
const page = <T,>(items: T[]) => ({ items, total: items.length, limit: 50, offset: 0 });

function platform(overrides: (req: Recorded) => ReturnType<Parameters<typeof fakeFetch>[0]> = () => undefined) {
  let orders = [order({ status: "PARTIALLY_FILLED", filled_quantity: "4.000000" }), order({ id: "o-filled", status: "FILLED" })];
  return fakeFetch((req) => {
    const custom = overrides(req);
    if (custom) return custom;
    const path = req.url.slice(GW.length);
    if (path === "/users/v1/me") return { status: 200, body: ME };
    if (path.startsWith("/users/v1/me/notifications")) return { status: 200, body: page([NOTE]) };
    if (path.startsWith("/products/v1/instruments?")) return { status: 200, body: page([APPLE]) };
    if (path === `/products/v1/instruments/${APPLE.isin}`) return { status: 200, body: APPLE };
    if (path.startsWith("/orders/v1/orders?")) return { status: 200, body: page(orders) };
    if (path === "/orders/v1/orders" && req.method === "POST") return { status: 201, body: order({ id: "o-new" }) };
    const cancel = /^\/orders\/v1\/orders\/([^/]+)\/cancel$/.exec(path);
    if (cancel) {
      orders = orders.map((o) => (o.id === cancel[1] ? { ...o, status: "CANCELLED" } : o));
      return { status: 200, body: orders.find((o) => o.id === cancel[1]) };
    }
    return undefined;
  });
}

async function signIn(fake: ReturnType<typeof fakeFetch>) {
  const user = userEvent.setup();
  render(<App apiBaseUrl={GW} fetchImpl={fake.impl} refreshMs={0} />);
  await user.type(screen.getByLabelText("E-mail"), "tess@example.com");
  await user.type(screen.getByLabelText("Password"), "correct horse");
  await user.type(screen.getByLabelText("Subscription key"), "sub-key");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  await screen.findByText(/Signed in as Tess Trader/);
  return user;
}

describe("the SPA", () => {
  it("signs in with credentials kept in memory only", async () => {
    const setItem = vi.spyOn(Storage.prototype, "setItem");
    const fake = platform();
    await signIn(fake);
    expect(setItem).not.toHaveBeenCalled();
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
    expect(document.cookie).toBe("");
    expect(fake.requests[0]?.headers["ocp-apim-subscription-key"]).toBe("sub-key");
  });

  it("shows the gateway's refusal plainly and stays signed out", async () => {
    const fake = platform((req) =>
      req.url.endsWith("/users/v1/me")
        ? { status: 401, body: { type: "about:blank", title: "Unauthorized", status: 401, detail: "Invalid username or password." } }
        : undefined,
    );
    const user = userEvent.setup();
    render(<App apiBaseUrl={GW} fetchImpl={fake.impl} refreshMs={0} />);
    await user.type(screen.getByLabelText("E-mail"), "tess@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong");
    await user.type(screen.getByLabelText("Subscription key"), "sub-key");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Unauthorized (401)");
    expect(alert).toHaveTextContent("Invalid username or password.");
    expect(alert).toHaveTextContent(/Reference: [0-9a-f-]{36}/);
    expect(screen.queryByText(/Signed in as/)).toBeNull();
  });

  it("finds an instrument, opens it and places a limit order after fixing it", async () => {
    const fake = platform();
    const user = await signIn(fake);
    await user.type(screen.getByLabelText("ISIN prefix or name"), "apple");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.click(await screen.findByRole("link", { name: APPLE.isin }));
    expect(await screen.findByRole("heading", { name: APPLE.full_name })).toBeInTheDocument();
    expect(window.location.pathname).toBe(`/instruments/${APPLE.isin}`);

    await user.click(screen.getByLabelText("Buy"));
    await user.type(screen.getByLabelText("Quantity"), "10");
    await user.type(screen.getByLabelText(/Limit price/), "190.005");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect(screen.getByText("limit_price 190.005 is not a multiple of tick size 0.01.")).toBeInTheDocument();
    expect(screen.getByLabelText(/Limit price/)).toHaveAttribute("aria-invalid", "true");
    expect(fake.requests.some((r) => r.method === "POST")).toBe(false);

    await user.clear(screen.getByLabelText(/Limit price/));
    await user.type(screen.getByLabelText(/Limit price/), "190.05");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Order o-new placed");
    const post = fake.requests.find((r) => r.method === "POST");
    expect(post?.body).toEqual({ isin: APPLE.isin, side: "buy", order_type: "limit", quantity: "10", limit_price: "190.05" });
    expect(post?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("shows the orders API's problem details when it refuses an order", async () => {
    const fake = platform((req) =>
      req.method === "POST"
        ? {
            status: 422,
            body: {
              type: "https://platform.example/problems/risk", title: "Risk limit exceeded", status: 422,
              detail: "Notional 2000000 USD exceeds the per-order limit 1000000.",
            },
          }
        : undefined,
    );
    const user = await signIn(fake);
    window.history.pushState(null, "", `/instruments/${APPLE.isin}`);
    window.dispatchEvent(new PopStateEvent("popstate"));
    await screen.findByRole("heading", { name: APPLE.full_name });
    await user.click(screen.getByLabelText("Sell"));
    await user.selectOptions(screen.getByLabelText("Order type"), "market");
    expect(screen.queryByLabelText(/Limit price/)).toBeNull();
    await user.type(screen.getByLabelText("Quantity"), "10000");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Risk limit exceeded (422)");
    expect(alert).toHaveTextContent("exceeds the per-order limit");
  });

  it("lists the caller's orders with their states and cancels an open one", async () => {
    const fake = platform();
    const user = await signIn(fake);
    await user.click(screen.getByRole("link", { name: "Orders" }));
    const table = await screen.findByRole("table");
    expect(within(table).getByText("Partially filled")).toBeInTheDocument();
    expect(within(table).getByText("Filled", { selector: "td" })).toBeInTheDocument();
    const cancels = within(table).getAllByRole("button", { name: /^Cancel order/ });
    expect(cancels).toHaveLength(1); // a filled order cannot be cancelled
    await user.click(cancels[0]!);
    await waitFor(() => expect(within(screen.getByRole("table")).getAllByText("Cancelled")).toHaveLength(1));
    expect(fake.requests.some((r) => r.method === "POST" && r.url.endsWith("/cancel"))).toBe(true);
  });

  it("shows notifications newest first", async () => {
    const fake = platform();
    const user = await signIn(fake);
    await user.click(screen.getByRole("link", { name: "Notifications" }));
    expect(await screen.findByRole("heading", { name: "Order filled" })).toBeInTheDocument();
    expect(screen.getByText(NOTE.body)).toBeInTheDocument();
  });

  it("forgets the session on sign-out", async () => {
    const fake = platform();
    const user = await signIn(fake);
    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect(screen.getByRole("heading", { name: "Sign in to the trading platform" })).toBeInTheDocument();
    expect(screen.getByLabelText("Password")).toHaveValue("");
  });
});
