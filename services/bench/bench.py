"""Bounded local benchmark (not a test): order creation against a bare single-insert endpoint.

Starts products-api, orders-api (calling products over HTTP) and a bare FastAPI app
(bench/bare_app.py: one validated SQLite insert per POST) with uvicorn on 127.0.0.1, each on
a fresh SQLite file, then drives them with wrk (C, not the bottleneck) for a fixed duration
per endpoint. Each round measures the bare POST and the order create back to back, so the
ratios compare like with like on a shared machine.

    python services/bench/bench.py --duration 10 --connections 16 --rounds 3

Needs `wrk` on PATH (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVICES_DIR = Path(__file__).resolve().parents[1]
ISIN = "US0378331005"
ORDER = {
    "isin": ISIN,
    "side": "buy",
    "order_type": "limit",
    "quantity": "10",
    "limit_price": "189.50",
}
INSTRUMENT = {
    "isin": ISIN,
    "full_name": "Apple Inc. Common Stock",
    "cfi_code": "ESVUFR",
    "issuer_lei": "HWUPKR0MPOU8FGXBT394",
    "currency": "USD",
    "venue_mic": "XNAS",
    "tick_size": "0.01",
    "reference_price": "190.00",
}
PORTS = {"bare": 8090, "orders": 8092, "products": 8093}

# One Lua state per wrk thread: rotate callers so no trader hits the open-order limit,
# and print the figures as one JSON line (wrk's own report has no p95).
WRK_SCRIPT = """
local counter = 0
local method, path, body = "%(method)s", "%(path)s", [[%(body)s]]
request = function()
  counter = counter + 1
  local headers = {["X-Caller-Id"] = "bench-" .. (counter %% %(users)d),
                   ["X-Caller-Roles"] = "trader"}
  if body ~= "" then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body ~= "" and body or nil)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%%d,"duration_us":%%d,"non_2xx":%%d,"socket_errors":%%d,' ..
    '"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"max_us":%%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Figures:
    name: str
    requests: int
    seconds: float
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def row(self) -> str:
        return (
            f"{self.name:<22} n={self.requests:>6} fail={self.failures:<3} "
            f"{self.rps:8.1f} req/s  p50={self.p50_ms:7.2f}ms p95={self.p95_ms:7.2f}ms "
            f"p99={self.p99_ms:7.2f}ms"
        )


def wrk(
    name: str,
    url: str,
    *,
    method: str,
    body: str,
    duration: int,
    connections: int,
    threads: int,
    workdir: Path,
    executable: str,
) -> Figures:
    base, _, path = url.partition("//")[2].partition("/")
    script = workdir / f"{name.replace(' ', '_').replace('/', '')}.lua"
    script.write_text(
        WRK_SCRIPT % {"method": method, "path": "/" + path, "body": body, "users": 500}
    )
    result = subprocess.run(
        [
            executable,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://{base}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(text for text in result.stdout.splitlines() if text.startswith("{"))
    data = json.loads(line)
    return Figures(
        name,
        data["requests"],
        data["duration_us"] / 1e6,
        data["non_2xx"] + data["socket_errors"],
        data["p50_us"] / 1000,
        data["p95_us"] / 1000,
        data["p99_us"] / 1000,
    )


def start(module: str, port: int, env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            module,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=workdir,
    )


def migrate(service: str, env: dict[str, str]) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(SERVICES_DIR / service / "alembic.ini"),
            "upgrade",
            "head",
        ],
        env=env,
        check=True,
        cwd=SERVICES_DIR / service,
        capture_output=True,
    )


def wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not ready: {url}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        parser.error("wrk is not on PATH (Debian: apt-get install wrk)")
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        base_env = {**os.environ, "ENVIRONMENT": "local", "LOG_LEVEL": "WARNING"}
        try:
            for service in ("products", "orders"):
                env = {
                    **base_env,
                    "PYTHONPATH": os.pathsep.join(
                        [str(SERVICES_DIR / "shared"), str(SERVICES_DIR / service)]
                    ),
                    "DATABASE_URL": f"sqlite:///{workdir / service}.db",
                    "PRODUCTS_API_BASE_URL": f"http://127.0.0.1:{PORTS['products']}",
                    "ORDERS_MAX_OPEN_ORDERS_PER_USER": "100000",
                }
                migrate(service, env)
                processes.append(
                    start(f"{service}_service.main:create_app", PORTS[service], env, workdir)
                )
            bare_env = {
                **base_env,
                "PYTHONPATH": os.pathsep.join(
                    [str(SERVICES_DIR / "shared"), str(Path(__file__).resolve().parent)]
                ),
                "DATABASE_URL": f"sqlite:///{workdir / 'bare'}.db",
            }
            processes.append(start("bare_app:create_app", PORTS["bare"], bare_env, workdir))
            bare = f"http://127.0.0.1:{PORTS['bare']}"
            orders = f"http://127.0.0.1:{PORTS['orders']}"
            products = f"http://127.0.0.1:{PORTS['products']}"
            wait_ready(f"{bare}/ping")
            wait_ready(f"{orders}/health/live")
            wait_ready(f"{products}/health/live")
            httpx.post(
                f"{products}/v1/instruments",
                json=INSTRUMENT,
                headers={"X-Caller-Id": "bench-admin", "X-Caller-Roles": "admin"},
                timeout=10,
            ).raise_for_status()
            body = json.dumps(ORDER)
            targets = {
                "bare POST (1 insert)": f"{bare}/orders",
                "orders POST create": f"{orders}/v1/orders",
            }

            def measure(name: str, duration: int) -> Figures:
                return wrk(
                    name,
                    targets[name],
                    method="POST",
                    body=body,
                    duration=duration,
                    connections=args.connections,
                    threads=args.threads,
                    workdir=workdir,
                    executable=wrk_path,
                )

            for name in targets:  # warm-up, not reported
                measure(name, 2)
            print(
                f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s per endpoint; "
                "1 uvicorn worker each, SQLite, 127.0.0.1"
            )
            failed = False
            for round_no in range(1, args.rounds + 1):
                bare_fig, order_fig = (measure(name, args.duration) for name in targets)
                print(f"round {round_no}")
                print("  " + bare_fig.row())
                print("  " + order_fig.row())
                print(
                    f"  ratio: throughput {order_fig.rps / bare_fig.rps:.2f}x, "
                    f"p50 {order_fig.p50_ms / bare_fig.p50_ms:.2f}x, "
                    f"p95 {order_fig.p95_ms / bare_fig.p95_ms:.2f}x, "
                    f"p99 {order_fig.p99_ms / bare_fig.p99_ms:.2f}x"
                )
                failed = failed or bare_fig.failures > 0 or order_fig.failures > 0
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=10)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
