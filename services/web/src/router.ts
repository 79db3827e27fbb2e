// Four pages on the History API; the Static Web App's navigationFallback serves index.html
// for each of their paths.
import { useEffect, useState } from "react";

export type Route =
  | { page: "instruments" }
  | { page: "instrument"; isin: string }
  | { page: "orders" }
  | { page: "notifications" };

export function parseRoute(pathname: string): Route {
  const instrument = /^\/instruments\/([A-Za-z0-9]{1,12})\/?$/.exec(pathname);
  if (instrument?.[1]) return { page: "instrument", isin: instrument[1].toUpperCase() };
  if (pathname.startsWith("/orders")) return { page: "orders" };
  if (pathname.startsWith("/notifications")) return { page: "notifications" };
  return { page: "instruments" };
}

export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  return route;
}
