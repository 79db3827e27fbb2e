/// <reference types="vitest/config" />
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv, type Plugin } from "vite";
import { renderSwaConfig } from "./swa-config";

// Writes dist/staticwebapp.config.json from the build's API URL and, where Front Door is on,
// SWA_FRONT_DOOR_ID and SWA_FORWARDED_HOSTS (comma-separated) from the stack's outputs.
function staticWebAppConfig(env: Record<string, string>): Plugin {
  let outDir = "dist";
  return {
    name: "static-web-app-config",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    buildStart() {
      if (!env.VITE_API_BASE_URL) {
        this.error(
          "VITE_API_BASE_URL is not set: the SPA calls the platform only through the gateway " +
            "at that URL (e.g. https://apim-plat-prod-wus2-abc123.azure-api.net, or " +
            "http://127.0.0.1:8000 for make run-platform)",
        );
      }
    },
    closeBundle() {
      const config = renderSwaConfig({
        apiBaseUrl: env.VITE_API_BASE_URL ?? "",
        frontDoorId: env.SWA_FRONT_DOOR_ID,
        forwardedHosts: (env.SWA_FORWARDED_HOSTS ?? "")
          .split(",")
          .map((h) => h.trim())
          .filter(Boolean),
      });
      writeFileSync(
        resolve(outDir, "staticwebapp.config.json"),
        JSON.stringify(config, null, 2) + "\n",
      );
    },
  };
}

export default defineConfig(({ mode }) => {
  const env = { ...loadEnv(mode, process.cwd(), ""), ...process.env } as Record<string, string>;
  return {
    plugins: [react(), staticWebAppConfig(env)],
    build: { sourcemap: false, target: "es2022" },
    preview: { host: "127.0.0.1" },
    test: {
      environment: "jsdom",
      globals: true,
      setupFiles: ["./src/test/setup.ts"],
      include: ["src/**/*.test.{ts,tsx}"],
      restoreMocks: true,
    },
  };
});
