// staticwebapp.config.json for the built SPA: security headers, SPA fallback, and (where
// Front Door is on) the lock that admits only this profile's X-Azure-FDID.
// https://learn.microsoft.com/azure/static-web-apps/configuration
// https://learn.microsoft.com/azure/static-web-apps/front-door-manual

export interface SwaConfigInput {
  /** VITE_API_BASE_URL: the gateway the SPA calls; the only origin CSP lets it connect to. */
  apiBaseUrl: string;
  /** The Front Door profile's id (stack output front_door_id); unset where there is none. */
  frontDoorId?: string | undefined;
  /** Hosts Front Door forwards (its endpoint and custom domain: stack output
   *  static_web_app_forwarding_gateway). */
  forwardedHosts?: readonly string[];
}

export class SwaConfigError extends Error {}

const GUID = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const HOST = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The API's origin, refusing anything but HTTPS (plain HTTP only on loopback, for e2e). */
export function apiOrigin(apiBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    throw new SwaConfigError(
      `VITE_API_BASE_URL = ${JSON.stringify(apiBaseUrl)} is not a URL; expected the gateway, ` +
        "e.g. https://apim-plat-prod-wus2-abc123.azure-api.net",
    );
  }
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost";
  if (url.protocol !== "https:" && !(loopback && url.protocol === "http:")) {
    throw new SwaConfigError(
      `VITE_API_BASE_URL = ${apiBaseUrl} must use https (http only on 127.0.0.1 or localhost)`,
    );
  }
  return url.origin;
}

export function contentSecurityPolicy(apiBaseUrl: string): string {
  const origin = apiOrigin(apiBaseUrl);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${origin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    // Not with a loopback HTTP gateway (make run-platform), which it would break.
    ...(origin.startsWith("https:") ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

export function renderSwaConfig(input: SwaConfigInput): Record<string, unknown> {
  const config: Record<string, unknown> = {
    navigationFallback: {
      rewrite: "/index.html",
      // Missing bundles answer 404 instead of the page, so a stale cache fails loudly.
      exclude: ["/assets/*", "/*.{js,css,svg,png,ico,woff2,json,txt}"],
    },
    globalHeaders: {
      "Content-Security-Policy": contentSecurityPolicy(input.apiBaseUrl),
      "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
      "X-Frame-Options": "DENY",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
      "Cross-Origin-Opener-Policy": "same-origin",
    },
    routes: [
      // A new deploy's page is seen at once; hashed bundles are immutable.
      { route: "/index.html", headers: { "Cache-Control": "no-cache" } },
      { route: "/assets/*", headers: { "Cache-Control": "public, max-age=31536000, immutable" } },
    ],
    mimeTypes: { ".json": "application/json" },
  };
  const hosts = input.forwardedHosts ?? [];
  if (input.frontDoorId === undefined || input.frontDoorId === "") {
    if (hosts.length > 0) {
      throw new SwaConfigError("forwarded hosts given without the Front Door id (X-Azure-FDID)");
    }
    return config;
  }
  if (!GUID.test(input.frontDoorId)) {
    throw new SwaConfigError(
      `Front Door id ${JSON.stringify(input.frontDoorId)} is not a GUID; use the stack ` +
        "output front_door_id",
    );
  }
  const bad = hosts.filter((h) => !HOST.test(h));
  if (hosts.length === 0 || bad.length > 0) {
    throw new SwaConfigError(
      `forwarded hosts ${JSON.stringify(bad.length ? bad : hosts)} are not host names; use ` +
        "the stack output static_web_app_forwarding_gateway.forwardingGateway.allowedForwardedHosts",
    );
  }
  config.networking = { allowedIpRanges: ["AzureFrontDoor.Backend"] };
  config.forwardingGateway = {
    requiredHeaders: { "X-Azure-FDID": input.frontDoorId },
    allowedForwardedHosts: [...hosts],
  };
  return config;
}
