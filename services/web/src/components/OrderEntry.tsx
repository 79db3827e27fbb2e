import { useState, type FormEvent } from "react";
import { newCorrelationId, type ApiClient, type Instrument, type Order, type OrderType } from "../api";
import { navigate } from "../router";
import { toOrderCreate, validateOrder, type OrderDraft, type OrderErrors } from "../validation";
import { ProblemAlert } from "./ProblemAlert";

const EMPTY: OrderDraft = { side: "", orderType: "limit", quantity: "", limitPrice: "" };

export function OrderEntry({ client, instrument }: { client: ApiClient; instrument: Instrument }) {
  const [draft, setDraft] = useState<OrderDraft>(EMPTY);
  const [errors, setErrors] = useState<OrderErrors>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [placed, setPlaced] = useState<Order | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per draft: resubmitting the same draft after a network error cannot double it.
  const [idempotencyKey, setIdempotencyKey] = useState(newCorrelationId);

  function change(patch: Partial<OrderDraft>) {
    setDraft((d) => ({ ...d, ...patch }));
    setIdempotencyKey(newCorrelationId());
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setPlaced(null);
    const found = validateOrder(instrument, draft);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const order = await client.placeOrder(toOrderCreate(instrument, draft), idempotencyKey);
      setPlaced(order);
      setDraft(EMPTY);
      setIdempotencyKey(newCorrelationId());
    } catch (err) {
      setProblem(err);
    } finally {
      setBusy(false);
    }
  }

  const field = (name: keyof OrderErrors) =>
    errors[name]
      ? { "aria-invalid": true as const, "aria-describedby": `${name}-error` }
      : {};
  const message = (name: keyof OrderErrors) =>
    errors[name] ? <p id={`${name}-error`} className="field-error">{errors[name]}</p> : null;

  return (
    <section aria-labelledby="order-entry-heading" className="order-entry">
      <h2 id="order-entry-heading">Place an order</h2>
      <form onSubmit={submit} noValidate>
        {message("isin")}
        <fieldset {...field("side")}>
          <legend>Side</legend>
          {(["buy", "sell"] as const).map((side) => (
            <label key={side} className="inline">
              <input type="radio" name="side" value={side} checked={draft.side === side}
                onChange={() => change({ side })} />
              {side === "buy" ? "Buy" : "Sell"}
            </label>
          ))}
        </fieldset>
        {message("side")}
        <label htmlFor="order-type">Order type</label>
        <select id="order-type" value={draft.orderType} {...field("order_type")}
          onChange={(e) => change({ orderType: e.target.value as OrderType, limitPrice: "" })}>
          <option value="limit">Limit</option>
          <option value="market">Market</option>
        </select>
        {message("order_type")}
        <label htmlFor="quantity">Quantity</label>
        <input id="quantity" inputMode="decimal" autoComplete="off" value={draft.quantity}
          {...field("quantity")} onChange={(e) => change({ quantity: e.target.value })} />
        {message("quantity")}
        {draft.orderType === "limit" ? (
          <>
            <label htmlFor="limit-price">Limit price ({instrument.currency}, tick {instrument.tick_size})</label>
            <input id="limit-price" inputMode="decimal" autoComplete="off" value={draft.limitPrice}
              {...field("limit_price")} onChange={(e) => change({ limitPrice: e.target.value })} />
          </>
        ) : null}
        {message("limit_price")}
        <button type="submit" disabled={busy}>{busy ? "Placing…" : "Place order"}</button>
      </form>
      <ProblemAlert error={problem} />
      {placed ? (
        <p role="status" className="placed">
          Order {placed.id} placed: {placed.side} {placed.quantity} {placed.isin}, status {placed.status}.{" "}
          <a href="/orders" onClick={(e) => { e.preventDefault(); navigate("/orders"); }}>See your orders</a>
        </p>
      ) : null}
    </section>
  );
}
