"""Gateway fixtures: a real users-api, echo backends for the others, a gateway in front."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from local_gateway.app import create_app
from local_gateway.settings import SERVICES, GatewaySettings
from platform_common.testing import caller_headers, migrated_sqlite
from users_service.main import create_app as create_users
from users_service.settings import UsersSettings
from users_service.settings import get_settings as users_settings

GATEWAY_DIR = Path(__file__).resolve().parents[1]
CONTRACT: dict[str, Any] = json.loads((GATEWAY_DIR / "contract.json").read_text())
FIXTURES: dict[str, Any] = CONTRACT["fixtures"]
KEY = FIXTURES["subscription_keys"]["valid"]
ADMIN = caller_headers("setup-admin", "admin")


@dataclass
class Echo:
    """A backend that answers 200 with what it received, and remembers it."""

    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        echo = FastAPI()

        @echo.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        async def answer(request: Request, path: str) -> dict[str, Any]:
            del path
            raw_path: bytes = request.scope["raw_path"]
            query = request.scope["query_string"].decode()
            seen = {
                "method": request.method,
                "path": raw_path.decode() + (f"?{query}" if query else ""),
                "headers": {k.decode(): v.decode("utf-8") for k, v in request.headers.raw},
                "body": (await request.body()).decode(),
            }
            self.received.append(seen)
            return seen

        return echo


class Router(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app of its host; `down` hosts refuse to connect."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {
            host: httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            for host, app in apps.items()
        }
        self.down: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.transports:
            raise httpx.ConnectError(f"connection refused by {host}", request=request)
        return await self.transports[host].handle_async_request(request)


def backend_settings(**values: object) -> GatewaySettings:
    """Gateway settings pointing each API at http://<service>.test."""
    urls = {f"{name}_api_base_url": f"http://{name}.test" for name in SERVICES}
    return GatewaySettings.model_validate({**urls, "subscription_keys": KEY, **values})


@dataclass
class Platform:
    users: TestClient
    echo: Echo
    router: Router

    def gateway(self, settings: GatewaySettings, **clocks: Any) -> TestClient:
        return TestClient(create_app(settings, transport=self.router, **clocks))


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    url = migrated_sqlite(GATEWAY_DIR.parent / "users", tmp_path / "t.db", tmp_path / "u.db")
    settings = UsersSettings(database_url=url)
    users = create_users()
    users.dependency_overrides[users_settings] = lambda: settings
    echo = Echo()
    echo_app = echo.app()
    router = Router({"users.test": users} | {f"{n}.test": echo_app for n in SERVICES[1:]})
    with TestClient(users) as admin:
        for user in FIXTURES["users"].values():
            body = {
                "id": user["id"],
                "display_name": user["id"],
                "email": user["email"],
                "roles": user["roles"],
            }
            assert admin.post("/v1/users", json=body, headers=ADMIN).status_code == 201
            password = {"password": user["password"]}
            put = admin.put(f"/v1/users/{user['id']}/password", json=password, headers=ADMIN)
            assert put.status_code == 204, put.text
            if not user["active"]:
                roles = {"roles": user["roles"], "active": False}
                assert admin.put(
                    f"/v1/users/{user['id']}/roles", json=roles, headers=ADMIN
                ).is_success
        yield Platform(admin, echo, router)


@pytest.fixture
def gateway_for(platform: Platform) -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def build(settings: GatewaySettings | None = None, **clocks: Any) -> TestClient:
        client = platform.gateway(settings or backend_settings(), **clocks).__enter__()
        opened.append(client)
        return client

    yield build
    for client in opened:
        client.__exit__(None, None, None)
