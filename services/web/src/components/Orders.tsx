import { useState } from "react";
import { OPEN_STATUSES, type ApiClient, type OrderStatus } from "../api";
import { usePolling } from "../usePolling";
import { ProblemAlert } from "./ProblemAlert";

const STATUSES: OrderStatus[] = ["NEW", "ACCEPTED", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED"];
const LABELS: Record<OrderStatus, string> = {
  NEW: "New",
  ACCEPTED: "Accepted",
  PARTIALLY_FILLED: "Partially filled",
  FILLED: "Filled",
  CANCELLED: "Cancelled",
  REJECTED: "Rejected",
};

export function Orders({ client, refreshMs = 3000 }: { client: ApiClient; refreshMs?: number }) {
  const [status, setStatus] = useState<OrderStatus | "">("");
  const { data, error, reload } = usePolling(() => client.orders(status || undefined), refreshMs);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");

  async function cancel(id: string) {
    setActionError(null);
    setNotice("");
    try {
      const order = await client.cancelOrder(id);
      setNotice(`Order ${order.id} is ${LABELS[order.status].toLowerCase()}.`);
    } catch (err) {
      setActionError(err);
    }
    await reload();
  }

  return (
    <section aria-labelledby="orders-heading">
      <h1 id="orders-heading">Your orders</h1>
      <div className="toolbar">
        <label htmlFor="status-filter">State</label>
        <select id="status-filter" value={status}
          onChange={(e) => { setStatus(e.target.value as OrderStatus | ""); }}>
          <option value="">All</option>
          {STATUSES.map((s) => <option key={s} value={s}>{LABELS[s]}</option>)}
        </select>
        <button type="button" onClick={() => void reload()}>Refresh</button>
      </div>
      <ProblemAlert error={actionError ?? error} />
      <p role="status">{notice}</p>
      {data && data.items.length === 0 ? <p>No orders yet.</p> : null}
      {data && data.items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Your orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Placed</th><th scope="col">ISIN</th><th scope="col">Side</th>
              <th scope="col">Type</th><th scope="col">Quantity</th><th scope="col">Limit</th>
              <th scope="col">Filled</th><th scope="col">Average price</th><th scope="col">State</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((o) => (
              <tr key={o.id} data-order-id={o.id}>
                <td><time dateTime={o.created_at}>{new Date(o.created_at).toLocaleString()}</time></td>
                <td>{o.isin}</td>
                <td>{o.side}</td>
                <td>{o.order_type}</td>
                <td>{o.quantity}</td>
                <td>{o.limit_price ?? "market"}</td>
                <td>{o.filled_quantity}</td>
                <td>{o.average_fill_price ?? "–"}</td>
                <td className={`state state-${o.status.toLowerCase()}`}>
                  {LABELS[o.status]}
                  {o.reject_reason ? `: ${o.reject_reason}` : ""}
                </td>
                <td>
                  {OPEN_STATUSES.includes(o.status) ? (
                    <button type="button" onClick={() => void cancel(o.id)}
                      aria-label={`Cancel order ${o.id} (${o.side} ${o.quantity} ${o.isin})`}>
                      Cancel
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
