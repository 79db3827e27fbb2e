import { useState } from "react";
import type { ApiClient, Caller } from "./api";
import { InstrumentDetail } from "./components/InstrumentDetail";
import { Instruments } from "./components/Instruments";
import { Notifications } from "./components/Notifications";
import { Orders } from "./components/Orders";
import { SignIn } from "./components/SignIn";
import { navigate, useRoute, type Route } from "./router";

interface Props {
  apiBaseUrl: string;
  fetchImpl?: typeof fetch;
  refreshMs?: number;
}

interface Session {
  client: ApiClient;
  caller: Caller;
}

const NAV: { path: string; label: string; pages: Route["page"][] }[] = [
  { path: "/instruments", label: "Instruments", pages: ["instruments", "instrument"] },
  { path: "/orders", label: "Orders", pages: ["orders"] },
  { path: "/notifications", label: "Notifications", pages: ["notifications"] },
];

/** The session (client with credentials) lives in React state only: a reload signs out. */
export function App({ apiBaseUrl, fetchImpl, refreshMs }: Props) {
  const [session, setSession] = useState<Session | null>(null);
  const route = useRoute();

  if (session === null) {
    return (
      <SignIn apiBaseUrl={apiBaseUrl} fetchImpl={fetchImpl}
        onSignedIn={(client, caller) => setSession({ client, caller })} />
    );
  }
  const who = session.caller.account?.display_name ?? session.caller.caller_id;
  return (
    <>
      <header className="top">
        <p className="brand">Trading platform</p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.path}>
                <a href={item.path} aria-current={item.pages.includes(route.page) ? "page" : undefined}
                  onClick={(e) => { e.preventDefault(); navigate(item.path); }}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p className="who">
          Signed in as {who}{" "}
          <button type="button" onClick={() => setSession(null)}>Sign out</button>
        </p>
      </header>
      <main>
        {route.page === "instruments" ? <Instruments client={session.client} /> : null}
        {route.page === "instrument" ? <InstrumentDetail client={session.client} isin={route.isin} /> : null}
        {route.page === "orders" ? <Orders client={session.client} refreshMs={refreshMs} /> : null}
        {route.page === "notifications" ? <Notifications client={session.client} refreshMs={refreshMs} /> : null}
      </main>
    </>
  );
}
