import { describe, expect, it } from "vitest";
import { apiOrigin, contentSecurityPolicy, renderSwaConfig, SwaConfigError } from "../swa-config";

const API = "https://apim-plat-prod-wus2-abc123.azure-api.net";
const FDID = "0f8fad5b-d9cb-469f-a165-70867728950e";

type Config = {
  globalHeaders: Record<string, string>;
  navigationFallback: { rewrite: string; exclude: string[] };
  forwardingGateway?: { requiredHeaders: Record<string, string>; allowedForwardedHosts: string[] };
  networking?: { allowedIpRanges: string[] };
};

describe("staticwebapp.config.json", () => {
  const config = renderSwaConfig({ apiBaseUrl: `${API}/` }) as Config;
  const csp = config.globalHeaders["Content-Security-Policy"]!;
  const directives = Object.fromEntries(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));

  it("lets the SPA connect to the API origin only", () => {
    expect(directives["connect-src"]).toEqual([API]);
    expect(directives["default-src"]).toEqual(["'self'"]);
    expect(directives["script-src"]).toEqual(["'self'"]);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("*");
  });

  it("forbids framing twice over, sniffing and referrers", () => {
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    expect(config.globalHeaders["X-Frame-Options"]).toBe("DENY");
    expect(config.globalHeaders["X-Content-Type-Options"]).toBe("nosniff");
    expect(config.globalHeaders["Referrer-Policy"]).toBe("no-referrer");
    expect(config.globalHeaders["Strict-Transport-Security"]).toMatch(/^max-age=31536000; includeSubDomains$/);
  });

  it("serves index.html for the SPA's routes, but not for missing assets", () => {
    expect(config.navigationFallback.rewrite).toBe("/index.html");
    expect(config.navigationFallback.exclude).toContain("/assets/*");
  });

  it("has no Front Door lock where there is no Front Door", () => {
    expect(config.forwardingGateway).toBeUndefined();
    expect(config.networking).toBeUndefined();
  });

  it("admits only the profile's X-Azure-FDID and hosts where Front Door is on", () => {
    const locked = renderSwaConfig({
      apiBaseUrl: API,
      frontDoorId: FDID,
      forwardedHosts: ["fde-plat-prod-wus2-abc123.z01.azurefd.net", "trade.example.com"],
    }) as Config;
    expect(locked.networking).toEqual({ allowedIpRanges: ["AzureFrontDoor.Backend"] });
    expect(locked.forwardingGateway).toEqual({
      requiredHeaders: { "X-Azure-FDID": FDID },
      allowedForwardedHosts: ["fde-plat-prod-wus2-abc123.z01.azurefd.net", "trade.example.com"],
    });
  });

  it.each([
    [{ apiBaseUrl: "not a url" }, "is not a URL"],
    [{ apiBaseUrl: "http://gateway.example.com" }, "must use https"],
    [{ apiBaseUrl: API, frontDoorId: "abc", forwardedHosts: ["x.azurefd.net"] }, "is not a GUID"],
    [{ apiBaseUrl: API, frontDoorId: FDID, forwardedHosts: [] }, "are not host names"],
    [{ apiBaseUrl: API, frontDoorId: FDID, forwardedHosts: ["https://x.azurefd.net"] }, "are not host names"],
    [{ apiBaseUrl: API, forwardedHosts: ["x.azurefd.net"] }, "without the Front Door id"],
  ])("refuses %j", (input, message) => {
    expect(() => renderSwaConfig(input)).toThrow(SwaConfigError);
    expect(() => renderSwaConfig(input)).toThrow(message);
  });

  it("allows plain HTTP to a loopback gateway only (make run-platform)", () => {
    expect(apiOrigin("http://127.0.0.1:8000")).toBe("http://127.0.0.1:8000");
    expect(contentSecurityPolicy("http://localhost:8000/")).toContain("connect-src http://localhost:8000;");
    expect(contentSecurityPolicy("http://localhost:8000/")).not.toContain("upgrade-insecure-requests");
    expect(contentSecurityPolicy(API)).toContain("upgrade-insecure-requests");
  });
});
