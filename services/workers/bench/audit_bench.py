"""Benchmark (not a test): audit records shipped per second into Azurite.

    python services/workers/bench/audit_bench.py --records 2000 --concurrency 1 16

Starts Azurite (services/node_modules, `npm ci` there) on a free loopback port, builds N
schema-1 records with platform_common.audit (not timed), then runs `ship_audit_record`,
the handler the trigger calls, on each: validation, a conditional Put Blob with metadata.
Each concurrency level writes into a fresh container, so every write is a first write;
a final pass re-ships the last level's records to time redeliveries (409, then a download
to compare). Concurrency stands in for the Functions host running several deliveries at
once (host.json maxConcurrentCalls). Azurite is not Azure Storage: the figure bounds the
worker's own cost, not the service's latency.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

WORKERS_DIR = Path(__file__).resolve().parents[1]
SERVICES_DIR = WORKERS_DIR.parent
sys.path[:0] = [str(WORKERS_DIR), str(SERVICES_DIR / "shared"), str(SERVICES_DIR)]

from azure.functions.servicebus import ServiceBusMessage  # noqa: E402

from platform_common.audit import AuditEntry  # noqa: E402
from run_platform import (  # noqa: E402
    azurite_connection_string,
    free_port,
    start_azurite,
    wait_http,
)
from workers_app.audit_store import AuditBlobStore, ship_audit_record  # noqa: E402
from workers_app.settlement import Complete  # noqa: E402

SERVICES = ("users", "products", "orders", "payments")


def records(count: int) -> list[ServiceBusMessage]:
    """`count` records over four services and two days, as the outbox publishes them."""
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)
    messages = []
    for n in range(count):
        entry = AuditEntry(
            action="order.create",
            resource_type="order",
            resource_id=str(uuid.uuid4()),
            actor_id=f"trader-{n % 50}",
            actor_roles=("trader",),
            status_code=201,
            after={"quantity": str(n), "email": f"trader-{n % 50}@example.com"},
            occurred_at=start + timedelta(seconds=43 * n),
        )
        body = entry.body(SERVICES[n % len(SERVICES)])
        messages.append(
            ServiceBusMessage(
                body=body.encode(),
                message_id=entry.id,
                delivery_count=1,
                application_properties={},
                user_properties={},
            )
        )
    return messages


def ship_all(store: AuditBlobStore, messages: list[ServiceBusMessage], concurrency: int) -> float:
    """Seconds to ship every message; fails loudly if any verdict is not Complete."""
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        verdicts = list(pool.map(lambda m: ship_audit_record(m, store), messages))
    elapsed = time.perf_counter() - began
    wrong = [v for v in verdicts if not isinstance(v, Complete)]
    if wrong:
        raise SystemExit(f"{len(wrong)} records not shipped, e.g. {wrong[0]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    messages = records(args.records)
    port = free_port()
    results: dict[str, object] = {"records": args.records, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="azurite-bench-") as workdir:
        azurite = start_azurite(port, Path(workdir))
        try:
            wait_http(f"http://127.0.0.1:{port}/devstoreaccount1?comp=list")
            connection = azurite_connection_string(port)
            load_before = os.getloadavg()[0]
            store = None
            for concurrency in args.concurrency:
                store = AuditBlobStore.from_connection_string(
                    connection, f"bench-{uuid.uuid4().hex[:12]}"
                )
                store.list("")  # creates the container outside the timing
                seconds = ship_all(store, messages, concurrency)
                results[f"first_writes_per_second_c{concurrency}"] = round(
                    args.records / seconds, 1
                )
            assert store is not None
            seconds = ship_all(store, messages, args.concurrency[-1])
            results[f"redeliveries_per_second_c{args.concurrency[-1]}"] = round(
                args.records / seconds, 1
            )
            results["stored"] = sum(1 for _ in store.list(""))
            results["load_1m_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        finally:
            azurite.terminate()
            azurite.wait(10)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
