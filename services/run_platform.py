"""The whole platform on one machine: the gateway, four services, the workers, Azurite, one bus.

python services/run_platform.py            # until Ctrl-C (gateway 8000, services 8001-8004,
                                           # Azurite 10000)
python services/run_platform.py --free-ports --data-dir /tmp/platform

The local gateway (services/gateway, API Management's contract) listens on port 8000:
`http://127.0.0.1:8000/<service>/...` with HTTP Basic credentials (a seeded user's e-mail
and password, run_local.SEED_USERS) and the `Ocp-Apim-Subscription-Key` header (the local
key LOCAL_SUBSCRIPTION_KEY unless GATEWAY_SUBSCRIPTION_KEYS or
GATEWAY_SUBSCRIPTION_KEYS_FILE is set). The services' own ports stay open on loopback.

Every process gets `MESSAGING_MODE=local-file` and the same `LOCAL_BUS_PATH`, so what the
orders and payments outboxes publish is what the workers' local runner receives, and what
the workers publish (outcomes, notifications) goes back on the same file. Azurite (the npm
package pinned in services/package.json, `npm ci` there) serves blob storage in memory on
loopback: the workers stage and archive FIRDS files there (STAGING_BLOB_CONNECTION_STRING,
the development account) and ship the services' audit records into its `audit-records`
container (AUDIT_BLOB_CONNECTION_STRING). Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from run_local import PORTS, SERVICES_DIR, migrate, seed, service_env, start, wait_ready

AZURITE = SERVICES_DIR / "node_modules" / ".bin" / "azurite-blob"
AZURITE_PORT = 10000
# Azurite's well-known development account: documented, public, accepted only by Azurite.
# https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def azurite_connection_string(port: int) -> str:
    """Connection string of Azurite's blob service on loopback (the development account)."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )


GATEWAY_PORT = 8000
# For this machine only; any deployed gateway's keys are API Management subscriptions.
LOCAL_SUBSCRIPTION_KEY = "local-dev-subscription-key"
# The SPA's dev server (Vite 5173) and preview (4173) may call the gateway from a browser.
LOCAL_CORS_ORIGINS = ",".join(
    f"http://{host}:{port}" for host in ("127.0.0.1", "localhost") for port in (5173, 4173)
)
STATUS_PATH = "/status-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bus_env(bus_path: Path) -> dict[str, str]:
    return {"MESSAGING_MODE": "local-file", "LOCAL_BUS_PATH": str(bus_path)}


def workers_env(ports: Mapping[str, int], bus_path: Path, blob_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(
                [str(SERVICES_DIR / "shared"), str(SERVICES_DIR / "workers")]
            ),
            "ENVIRONMENT": "local",
            **bus_env(bus_path),
            **{
                f"{name.upper()}_API_BASE_URL": f"http://127.0.0.1:{p}" for name, p in ports.items()
            },
            # Blob staging and archive in Azurite, through the same azure-storage-blob code
            # the workers run in Azure (there with their identity, STAGING_BLOB_ACCOUNT_URL).
            "STAGING_BLOB_CONNECTION_STRING": azurite_connection_string(blob_port),
            # The audit records shipped from audit-queue, in Azurite's `audit-records`
            # container (in Azure the immutable one, AUDIT_BLOB_ACCOUNT_URL).
            "AUDIT_BLOB_CONNECTION_STRING": azurite_connection_string(blob_port),
        }
    )
    return env


def gateway_env(ports: Mapping[str, int]) -> dict[str, str]:
    """The gateway's settings (GATEWAY_*); what the caller's environment sets wins."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SERVICES_DIR / "shared"), str(SERVICES_DIR / "gateway")]
    )
    for name, port in ports.items():
        env[f"GATEWAY_{name.upper()}_API_BASE_URL"] = f"http://127.0.0.1:{port}"
    if not (env.get("GATEWAY_SUBSCRIPTION_KEYS") or env.get("GATEWAY_SUBSCRIPTION_KEYS_FILE")):
        env["GATEWAY_SUBSCRIPTION_KEYS"] = LOCAL_SUBSCRIPTION_KEY
    env.setdefault("GATEWAY_CORS_ORIGINS", LOCAL_CORS_ORIGINS)
    # A browser session and the end-to-end test poll; a developer's machine needs no tight
    # limit (the rate limit itself is tested in services/gateway).
    env.setdefault("GATEWAY_RATE_LIMIT_CALLS", "6000")
    return env


def start_gateway(ports: Mapping[str, int], host: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "local_gateway.app:create_app",
            "--factory",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=gateway_env(ports),
        cwd=SERVICES_DIR / "gateway",
    )


def start_azurite(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    if not AZURITE.exists():
        raise RuntimeError(f"Azurite is not installed at {AZURITE}: run `npm ci` in {SERVICES_DIR}")
    return subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            # Nothing on disk (it refuses --location with this); cwd keeps any stray file out
            # of the tree. https://github.com/Azure/Azurite#command-line-options
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",  # no calls out of the machine
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        cwd=workdir,
    )


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Until anything answers HTTP at `url` (Azurite answers a bare GET with an error body)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {url}")


@dataclass
class Platform:
    """The started processes; `stop()` ends them all (each by its own handle)."""

    ports: dict[str, int]
    blob_port: int
    bus_path: Path
    gateway_port: int = GATEWAY_PORT
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def url(self, service: str) -> str:
        """A service's own address (no gateway in between)."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def database_url(self, service: str) -> str:
        """The service's SQLite file (run_local.service_env puts it next to the bus)."""
        return f"sqlite:///{self.bus_path.parent / f'{service}.db'}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def check_alive(self) -> None:
        dead = [p.args for p in self.processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"platform process(es) exited: {dead}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def start_platform(
    data_dir: Path,
    ports: Mapping[str, int] = PORTS,
    blob_port: int = AZURITE_PORT,
    host: str = "127.0.0.1",
    with_seed: bool = False,
    *,
    gateway_port: int = GATEWAY_PORT,
) -> Platform:
    """Migrate and start everything, wait until ready; stops what it started if that fails."""
    data_dir.mkdir(parents=True, exist_ok=True)
    bus_path = data_dir / "bus.db"
    platform = Platform(dict(ports), blob_port, bus_path, gateway_port)
    try:
        (data_dir / "azurite").mkdir(exist_ok=True)
        platform.processes.append(start_azurite(blob_port, data_dir / "azurite"))
        for name in ports:
            env = {**service_env(name, data_dir, ports), **bus_env(bus_path)}
            migrate(name, env)
            platform.processes.append(start(name, env, host, ports))
        platform.processes.append(start_gateway(ports, host, gateway_port))
        for name in ports:
            wait_ready(name, ports=ports)
        wait_http(f"http://127.0.0.1:{blob_port}/devstoreaccount1?comp=list")
        wait_http(platform.gateway_url + STATUS_PATH)
        if with_seed:
            seed(ports)
        platform.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "workers_app.local_runner"],
                env=workers_env(ports, bus_path, blob_port),
                cwd=SERVICES_DIR / "workers",
            )
        )
        return platform
    except BaseException:
        platform.stop()
        raise


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, help="SQLite files and the bus (default: a temp dir)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--free-ports", action="store_true", help="any free loopback ports")
    parser.add_argument(
        "--no-seed", action="store_true", help="skip the demo users and instruments"
    )
    args = parser.parse_args()
    ports = {name: free_port() for name in PORTS} if args.free_ports else PORTS
    blob_port = free_port() if args.free_ports else AZURITE_PORT
    gateway_port = free_port() if args.free_ports else GATEWAY_PORT
    with tempfile.TemporaryDirectory(prefix="platform-") as scratch:
        data_dir = (args.data_dir or Path(scratch)).resolve()
        platform: Platform | None = None
        try:
            platform = start_platform(
                data_dir, ports, blob_port, args.host, not args.no_seed, gateway_port=gateway_port
            )
            print(
                f"ready: gateway {platform.gateway_url}/<service>/..., "
                + ", ".join(f"{n} {platform.url(n)}/docs" for n in ports)
                + f", azurite blob http://127.0.0.1:{blob_port}, bus {platform.bus_path}",
                flush=True,
            )
            while True:
                platform.check_alive()
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        except RuntimeError as exc:
            print(f"run-platform: {exc}", file=sys.stderr)
            return 1
        finally:
            if platform is not None:
                platform.stop()


if __name__ == "__main__":
    raise SystemExit(main())
