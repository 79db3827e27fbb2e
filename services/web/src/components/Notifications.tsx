import type { ApiClient } from "../api";
import { usePolling } from "../usePolling";
import { ProblemAlert } from "./ProblemAlert";

export function Notifications({ client, refreshMs = 3000 }: { client: ApiClient; refreshMs?: number }) {
  const { data, error, reload } = usePolling(() => client.notifications(), refreshMs);
  return (
    <section aria-labelledby="notifications-heading">
      <h1 id="notifications-heading">Notifications</h1>
      <button type="button" onClick={() => void reload()}>Refresh</button>
      <ProblemAlert error={error} />
      {data && data.items.length === 0 ? <p>No notifications yet.</p> : null}
      {data && data.items.length > 0 ? (
        <ol className="notifications" aria-label="Newest first">
          {data.items.map((n) => (
            <li key={n.id}>
              <h2>{n.title}</h2>
              <p>{n.body}</p>
              <p className="meta">
                <time dateTime={n.occurred_at}>{new Date(n.occurred_at).toLocaleString()}</time>
                {n.reference ? ` · ${n.reference}` : ""}
              </p>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
