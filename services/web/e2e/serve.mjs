// A tiny static server for the built SPA that applies dist/staticwebapp.config.json the way
// Static Web Apps does for what the e2e needs: globalHeaders, per-route headers and the
// navigationFallback (index.html for every path not excluded). Loopback only.
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** SWA route patterns: `*` matches anything, `{a,b}` one of the listed words. */
export function globToRegExp(pattern) {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += ".*";
    else if (c === "{") {
      const end = pattern.indexOf("}", i);
      out += `(${pattern.slice(i + 1, end).split(",").map(escape).join("|")})`;
      i = end;
    } else out += escape(c);
  }
  return new RegExp(`^${out}$`);
}

function escape(text) {
  return text.replace(/[.+?^$()|[\]\\]/g, "\\$&");
}

export function startStaticServer(distDir, port = 0) {
  const root = resolve(distDir);
  const config = JSON.parse(readFileSync(join(root, "staticwebapp.config.json"), "utf8"));
  const fallback = config.navigationFallback;
  const excluded = (fallback?.exclude ?? []).map(globToRegExp);
  const routes = (config.routes ?? []).map((r) => ({ match: globToRegExp(r.route), headers: r.headers ?? {} }));

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = normalize(join(root, path === "/" ? "/index.html" : path));
    if (!file.startsWith(root) || path.endsWith("staticwebapp.config.json")) {
      res.writeHead(404).end();
      return;
    }
    let served = path === "/" ? "/index.html" : path;
    if (!existsSync(file) || statSync(file).isDirectory()) {
      if (!fallback || excluded.some((re) => re.test(path))) {
        res.writeHead(404, config.globalHeaders).end("not found");
        return;
      }
      file = join(root, fallback.rewrite);
      served = fallback.rewrite;
    }
    const headers = { ...config.globalHeaders, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" };
    for (const route of routes) if (route.match.test(served)) Object.assign(headers, route.headers);
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}
