"""Run all four services locally on SQLite with uvicorn (ports 8001-8004), migrating first.

python services/run_local.py            # until Ctrl-C
python services/run_local.py --seed     # also load demo users and instruments
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

SERVICES_DIR = Path(__file__).resolve().parent
PORTS = {"users": 8001, "orders": 8002, "products": 8003, "payments": 8004}
ADMIN = {"X-Caller-Id": "admin", "X-Caller-Roles": "admin"}
# The seeded accounts' passwords, for local use only (README, "The platform on one machine");
# sign in through the local gateway with the e-mail <id>@example.com and this password.
SEED_USERS = {
    "admin": (["admin"], "admin local passphrase"),
    "tom": (["trader"], "tom local passphrase"),
    "rita": (["risk_manager"], "rita local passphrase"),
}


def service_env(name: str, data_dir: Path, ports: Mapping[str, int] = PORTS) -> dict[str, str]:
    paths = [str(SERVICES_DIR / "shared"), str(SERVICES_DIR / name)]
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(paths),
            "ENVIRONMENT": "local",
            "DATABASE_URL": f"sqlite:///{data_dir / f'{name}.db'}",
        }
    )
    if name == "orders":
        env["PRODUCTS_API_BASE_URL"] = f"http://127.0.0.1:{ports['products']}"
    if name == "payments":
        env["ORDERS_API_BASE_URL"] = f"http://127.0.0.1:{ports['orders']}"
    return env


def migrate(name: str, env: dict[str, str]) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(SERVICES_DIR / name / "alembic.ini"),
            "upgrade",
            "head",
        ],
        env=env,
        check=True,
        cwd=SERVICES_DIR / name,
    )


def start(
    name: str, env: dict[str, str], host: str, ports: Mapping[str, int] = PORTS
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{name}_service.main:create_app",
            "--factory",
            "--host",
            host,
            "--port",
            str(ports[name]),
            "--no-access-log",
            # The peer is the caller: users-api's authenticate route checks it against
            # AUTHENTICATE_ALLOWED_CIDRS (loopback), so no X-Forwarded-For may rewrite it.
            "--no-proxy-headers",
        ],
        env=env,
    )


def wait_ready(name: str, timeout: float = 30.0, ports: Mapping[str, int] = PORTS) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{ports[name]}/health/ready"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not become ready on {url}")


def post(port: int, path: str, body: dict[str, object], method: str = "POST") -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **ADMIN},
        method=method,
    )
    try:
        urllib.request.urlopen(request, timeout=5).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # already seeded
            raise


def seed(ports: Mapping[str, int] = PORTS) -> None:
    """Demo data: one admin/trader/risk manager with passwords, and two instruments."""
    for user_id, (roles, password) in SEED_USERS.items():
        post(
            ports["users"],
            "/v1/users",
            {
                "id": user_id,
                "display_name": user_id.title(),
                "email": f"{user_id}@example.com",
                "roles": roles,
            },
        )
        post(ports["users"], f"/v1/users/{user_id}/password", {"password": password}, "PUT")
    post(
        ports["products"],
        "/v1/instruments",
        {
            "isin": "US0378331005",
            "full_name": "Apple Inc. Common Stock",
            "cfi_code": "ESVUFR",
            "issuer_lei": "HWUPKR0MPOU8FGXBT394",
            "currency": "USD",
            "venue_mic": "XNAS",
            "tick_size": "0.01",
            "reference_price": "190.00",
        },
    )
    post(
        ports["products"],
        "/v1/instruments",
        {
            "isin": "DE0007236101",
            "full_name": "Siemens AG Namens-Aktien",
            "cfi_code": "ESVUFR",
            "issuer_lei": "W38RGI023J3WT1HWRP32",
            "currency": "EUR",
            "venue_mic": "XETR",
            "tick_size": "0.02",
        },
    )


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    """SIGTERM (e.g. from `timeout` or a supervisor) shuts the children down like Ctrl-C."""
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, default=SERVICES_DIR / ".local", help="SQLite files go here"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--seed", action="store_true", help="load demo users and instruments")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in PORTS:
            env = service_env(name, args.data_dir.resolve())
            migrate(name, env)
            processes.append(start(name, env, args.host))
        for name in PORTS:
            wait_ready(name)
        if args.seed:
            seed()
        print(
            "ready: " + ", ".join(f"{n} http://127.0.0.1:{p}/docs" for n, p in PORTS.items()),
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
