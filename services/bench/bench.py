"""Bounded local benchmark (not a test): product lookup and order creation vs a bare endpoint.

Starts products-api, orders-api (calling products over HTTP) and a bare FastAPI app with
uvicorn on 127.0.0.1, each on a fresh SQLite file, then sends a fixed number of requests
at fixed concurrency with httpx and prints p50/p95/p99 latency and throughput.

    python services/bench/bench.py --requests 2000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVICES_DIR = Path(__file__).resolve().parents[1]
ISIN = "US0378331005"
ADMIN = {"X-Caller-Id": "bench-admin", "X-Caller-Roles": "admin"}


@dataclass(frozen=True)
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    elapsed_s: float

    def row(self) -> str:
        q = statistics.quantiles(self.latencies_ms, n=100)
        rps = len(self.latencies_ms) / self.elapsed_s
        return (
            f"{self.name:<24} n={len(self.latencies_ms):>5} err={self.errors:<3} "
            f"p50={q[49]:7.2f}ms p95={q[94]:7.2f}ms p99={q[98]:7.2f}ms {rps:8.1f} req/s"
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


async def wait_ready(client: httpx.AsyncClient, url: str) -> None:
    for _ in range(150):
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"not ready: {url}")


async def run_load(
    name: str,
    client: httpx.AsyncClient,
    make_request: Callable[[int], httpx.Request],
    *,
    expected: int,
    total: int,
    concurrency: int,
) -> Result:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            started = time.perf_counter()
            response = await client.send(make_request(i))
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != expected:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, latencies, errors, time.perf_counter() - began)


async def bench(total: int, concurrency: int, ports: dict[str, int]) -> list[Result]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for name, port in ports.items():
            await wait_ready(
                client, f"http://127.0.0.1:{port}" + ("/ping" if name == "bare" else "/health/live")
            )
        products = f"http://127.0.0.1:{ports['products']}"
        orders = f"http://127.0.0.1:{ports['orders']}"
        bare = f"http://127.0.0.1:{ports['bare']}"
        created = await client.post(
            f"{products}/v1/instruments",
            headers=ADMIN,
            json={
                "isin": ISIN,
                "full_name": "Apple Inc. Common Stock",
                "cfi_code": "ESVUFR",
                "issuer_lei": "HWUPKR0MPOU8FGXBT394",
                "currency": "USD",
                "venue_mic": "XNAS",
                "tick_size": "0.01",
                "reference_price": "190.00",
            },
        )
        created.raise_for_status()
        warmup = min(100, total)
        await run_load(
            "warm-up",
            client,
            lambda i: client.build_request("GET", f"{bare}/ping"),
            expected=200,
            total=warmup,
            concurrency=concurrency,
        )

        def order(i: int) -> httpx.Request:
            return client.build_request(
                "POST",
                f"{orders}/v1/orders",
                headers={"X-Caller-Id": f"bench-{i % 500}", "X-Caller-Roles": "trader"},
                json={
                    "isin": ISIN,
                    "side": "buy",
                    "order_type": "limit",
                    "quantity": "10",
                    "limit_price": "189.50",
                },
            )

        return [
            await run_load(
                "bare GET /ping",
                client,
                lambda i: client.build_request("GET", f"{bare}/ping"),
                expected=200,
                total=total,
                concurrency=concurrency,
            ),
            await run_load(
                "products GET by ISIN",
                client,
                lambda i: client.build_request("GET", f"{products}/v1/instruments/{ISIN}"),
                expected=200,
                total=total,
                concurrency=concurrency,
            ),
            await run_load(
                "orders POST create",
                client,
                order,
                expected=201,
                total=total,
                concurrency=concurrency,
            ),
        ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    ports = {"bare": 8090, "products": 8093, "orders": 8092}
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        base_env = {**os.environ, "ENVIRONMENT": "local", "LOG_LEVEL": "WARNING"}
        try:
            for service in ("products", "orders"):
                env = {
                    **base_env,
                    "PYTHONPATH": os.pathsep.join(
                        [str(SERVICES_DIR / "shared"), str(SERVICES_DIR / service)]
                    ),
                    "DATABASE_URL": f"sqlite:///{Path(tmp) / service}.db",
                    "PRODUCTS_API_BASE_URL": f"http://127.0.0.1:{ports['products']}",
                }
                migrate(service, env)
                processes.append(
                    start(f"{service}_service.main:create_app", ports[service], env, Path(tmp))
                )
            bare_env = {**base_env, "PYTHONPATH": str(Path(__file__).resolve().parent)}
            processes.append(start("bare_app:create_app", ports["bare"], bare_env, Path(tmp)))
            results = asyncio.run(bench(args.requests, args.concurrency, ports))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=10)
    print(
        f"requests={args.requests} concurrency={args.concurrency} "
        "(1 uvicorn worker each, SQLite, 127.0.0.1)"
    )
    for result in results:
        print(result.row())
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
