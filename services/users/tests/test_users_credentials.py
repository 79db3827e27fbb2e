"""Credentials: Argon2id hashes, the password policy, changes, and the authenticate endpoint."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from platform_common.testing import caller_headers
from users_service.main import create_app
from users_service.passwords import passwords_for
from users_service.settings import UsersSettings, get_settings

ADMIN = caller_headers("ada", "admin")
TOM_PASSWORD = "correct horse battery staple"  # noqa: S105 (a test account)
TOM: dict[str, Any] = {
    "id": "tom",
    "display_name": "Tom Trader",
    "email": "Tom@Example.com",
    "roles": ["trader", "viewer"],
}
GATEWAY = ("127.0.0.1", 50000)


def _settings(**values: object) -> UsersSettings:
    """Settings as the environment spells them (strings, comma-separated lists)."""
    return UsersSettings.model_validate(values)


def _client(settings: UsersSettings, peer: tuple[str, int] = GATEWAY) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, client=peer) as client:
        yield client


@pytest.fixture
def gateway(users_settings: UsersSettings) -> Iterator[TestClient]:
    """A client calling from loopback, the local gateway's address."""
    yield from _client(users_settings)


def _tom(client: TestClient, password: str = TOM_PASSWORD) -> None:
    assert client.post("/v1/users", json=TOM, headers=ADMIN).status_code == 201
    put = client.put("/v1/users/tom/password", json={"password": password}, headers=ADMIN)
    assert put.status_code == 204, put.text


def _stored_hash(settings: UsersSettings) -> str:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE id = 'tom'")).scalar()
    engine.dispose()
    assert isinstance(stored, str)
    return stored


def test_stored_as_argon2id_with_owasp_parameters(
    gateway: TestClient, users_settings: UsersSettings
) -> None:
    _tom(gateway)
    stored = _stored_hash(users_settings)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert TOM_PASSWORD not in stored


def test_authenticate_answers_the_contract(gateway: TestClient) -> None:
    _tom(gateway)
    ok = gateway.post(
        "/internal/v1/authenticate", json={"username": "tom@example.com", "password": TOM_PASSWORD}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "user_id": "tom",
        "username": "Tom@Example.com",
        "roles": ["trader", "viewer"],
        "active": True,
    }


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("tom@example.com", "wrong password entirely"),
        ("nobody@example.com", TOM_PASSWORD),
        ("tom@example.com", ""),
    ],
    ids=["wrong-password", "unknown-user", "empty-password"],
)
def test_authenticate_failures_look_alike(
    gateway: TestClient, username: str, password: str
) -> None:
    _tom(gateway)
    refused = gateway.post(
        "/internal/v1/authenticate", json={"username": username, "password": password}
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"] == 'Basic realm="platform"'
    body = refused.json()
    assert body["detail"] == "The username or password is not valid."


def test_account_without_password_cannot_authenticate(gateway: TestClient) -> None:
    assert gateway.post("/v1/users", json=TOM, headers=ADMIN).status_code == 201
    refused = gateway.post(
        "/internal/v1/authenticate", json={"username": "tom@example.com", "password": ""}
    )
    assert refused.status_code == 401


def test_unknown_user_costs_one_argon2_verification(
    gateway: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Constant shape: an unknown user runs the same Argon2id verify as a wrong password."""
    _tom(gateway)
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting(self: PasswordHasher, stored: str, password: str) -> bool:
        calls.append(stored)
        return original(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    for username in ("tom@example.com", "nobody@example.com"):
        gateway.post("/internal/v1/authenticate", json={"username": username, "password": "x"})
    assert len(calls) == 2
    assert all(stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for stored in calls)


def test_deactivated_user_is_identified_as_inactive(gateway: TestClient) -> None:
    _tom(gateway)
    gateway.put("/v1/users/tom/roles", json={"roles": ["trader"], "active": False}, headers=ADMIN)
    verdict = gateway.post(
        "/internal/v1/authenticate", json={"username": "tom@example.com", "password": TOM_PASSWORD}
    )
    assert verdict.status_code == 200
    assert verdict.json()["active"] is False


def test_authenticate_refuses_callers_outside_the_allowed_cidrs(
    users_settings: UsersSettings,
) -> None:
    body = {"username": "tom@example.com", "password": TOM_PASSWORD}
    for client in _client(users_settings, ("10.1.2.3", 4000)):
        refused = client.post("/internal/v1/authenticate", json=body)
        assert refused.status_code == 403
        assert "AUTHENTICATE_ALLOWED_CIDRS" in refused.json()["detail"]
    allowed = _settings(
        database_url=users_settings.database_url, authenticate_allowed_cidrs="10.1.2.0/24"
    )
    for client in _client(allowed, ("10.1.2.3", 4000)):
        _tom(client)
        assert client.post("/internal/v1/authenticate", json=body).status_code == 200
    for client in _client(allowed, GATEWAY):  # loopback is not allowed once a list is set
        assert client.post("/internal/v1/authenticate", json=body).status_code == 403


def test_behind_ingress_only_the_appended_forwarded_for_entry_counts(
    users_settings: UsersSettings,
) -> None:
    """A client cannot spoof its way in by sending X-Forwarded-For itself: ingress appends
    the real address after whatever the client sent, and only that last entry is read."""
    settings = _settings(
        database_url=users_settings.database_url,
        authenticate_allowed_cidrs="10.0.4.0/24",
        authenticate_client_address="forwarded-for",
    )
    body = {"username": "tom@example.com", "password": TOM_PASSWORD}
    for client in _client(settings, ("100.64.0.9", 4000)):
        _tom(client)
        spoofed = {"X-Forwarded-For": "10.0.4.5, 203.0.113.7"}
        assert (
            client.post("/internal/v1/authenticate", json=body, headers=spoofed).status_code == 403
        )
        real = {"X-Forwarded-For": "203.0.113.7, 10.0.4.5"}
        assert client.post("/internal/v1/authenticate", json=body, headers=real).status_code == 200
        assert client.post("/internal/v1/authenticate", json=body).status_code == 403


def test_forwarded_for_is_the_default_outside_local() -> None:
    azure = {
        "environment": "dev",
        "azure_sql_server": "sql.database.windows.net",
        "azure_sql_database": "users",
        "azure_client_id": "00000000-0000-0000-0000-000000000000",
        "applicationinsights_connection_string": "InstrumentationKey=x",
        "servicebus_fully_qualified_namespace": "sb.servicebus.windows.net",
    }
    with pytest.raises(ValidationError, match="AUTHENTICATE_ALLOWED_CIDRS"):
        _settings(**azure)
    settings = _settings(**azure, authenticate_allowed_cidrs="10.0.4.0/24, 10.0.5.0/24")
    assert settings.client_address_source == "forwarded-for"
    assert [str(n) for n in settings.allowed_authenticate_networks] == [
        "10.0.4.0/24",
        "10.0.5.0/24",
    ]
    assert UsersSettings().client_address_source == "peer"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [("10.0.4.1/24", "not a CIDR network address"), ("gateway", "not a CIDR network address")],
)
def test_allowed_cidrs_must_be_networks(raw: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        _settings(authenticate_allowed_cidrs=raw)


def test_hash_parameters_weaker_than_owasp_are_refused() -> None:
    with pytest.raises(ValidationError, match="weaker than OWASP"):
        UsersSettings(password_hash_memory_kib=7168, password_hash_time_cost=2)
    UsersSettings(password_hash_memory_kib=47104, password_hash_time_cost=1)


def test_login_rehashes_when_parameters_change(
    gateway: TestClient, users_settings: UsersSettings
) -> None:
    _tom(gateway)
    before = _stored_hash(users_settings)
    stronger = UsersSettings(
        database_url=users_settings.database_url, password_hash_memory_kib=24576
    )
    body = {"username": "tom@example.com", "password": TOM_PASSWORD}
    for client in _client(stronger):
        assert client.post("/internal/v1/authenticate", json=body).status_code == 200
    after = _stored_hash(users_settings)
    assert before.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert after.startswith("$argon2id$v=19$m=24576,t=2,p=1$")
    assert passwords_for(stronger).verify(after, TOM_PASSWORD).matched
    for client in _client(stronger):  # the new hash needs no further rehash
        assert client.post("/internal/v1/authenticate", json=body).status_code == 200
    assert _stored_hash(users_settings) == after


@pytest.mark.parametrize(
    ("password", "status", "fragment"),
    [
        ("tiny pass", 422, "at least 12 characters"),
        ("x" * 129, 422, "at most 128 characters"),
        ("TOM@example.com", 422, "must not be the account's e-mail"),
    ],
)
def test_password_policy(gateway: TestClient, password: str, status: int, fragment: str) -> None:
    assert gateway.post("/v1/users", json=TOM, headers=ADMIN).status_code == 201
    refused = gateway.put("/v1/users/tom/password", json={"password": password}, headers=ADMIN)
    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    assert fragment in refused.text
    assert password not in refused.text


def test_only_an_admin_sets_passwords(gateway: TestClient) -> None:
    assert gateway.post("/v1/users", json=TOM, headers=ADMIN).status_code == 201
    body = {"password": TOM_PASSWORD}
    tom = caller_headers("tom", "trader")
    assert gateway.put("/v1/users/tom/password", json=body, headers=tom).status_code == 403
    assert gateway.put("/v1/users/nobody/password", json=body, headers=ADMIN).status_code == 404


def test_user_changes_own_password_with_the_current_one(gateway: TestClient) -> None:
    _tom(gateway)
    tom = caller_headers("tom", "trader")
    new = "a much longer passphrase now"
    wrong = gateway.put(
        "/v1/me/password",
        json={"current_password": "not my password", "new_password": new},
        headers=tom,
    )
    assert wrong.status_code == 403
    changed = gateway.put(
        "/v1/me/password", json={"current_password": TOM_PASSWORD, "new_password": new}, headers=tom
    )
    assert changed.status_code == 204, changed.text
    own_email = gateway.put(
        "/v1/me/password",
        json={"current_password": new, "new_password": "tom@example.com"},
        headers=tom,
    )
    assert own_email.status_code == 422
    assert own_email.json()["errors"][0]["loc"] == ["body", "new_password"]
    old = {"username": "tom@example.com", "password": TOM_PASSWORD}
    assert gateway.post("/internal/v1/authenticate", json=old).status_code == 401
    fresh = {"username": "tom@example.com", "password": new}
    assert gateway.post("/internal/v1/authenticate", json=fresh).status_code == 200
    stranger = caller_headers("zed", "trader")
    body = {"current_password": new, "new_password": "yet another passphrase"}
    assert gateway.put("/v1/me/password", json=body, headers=stranger).status_code == 404


def test_same_password_typed_in_another_unicode_form_matches(gateway: TestClient) -> None:
    composed, decomposed = (
        "caf\u00e9 au lait, s'il vous pla\u00eet",
        "cafe\u0301 au lait, s'il vous pla\u00eet",
    )
    _tom(gateway, composed)
    body = {"username": "tom@example.com", "password": decomposed}
    assert gateway.post("/internal/v1/authenticate", json=body).status_code == 200


def test_no_password_or_hash_in_responses_or_logs(
    gateway: TestClient, users_settings: UsersSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    new = "second secret passphrase"
    _tom(gateway)
    tom = caller_headers("tom", "trader")
    answers = [
        gateway.get("/v1/users/tom", headers=ADMIN),
        gateway.get("/v1/users", headers=ADMIN),
        gateway.get("/v1/me", headers=tom),
        gateway.post(
            "/internal/v1/authenticate",
            json={"username": "tom@example.com", "password": TOM_PASSWORD},
        ),
        gateway.post(
            "/internal/v1/authenticate",
            json={"username": "tom@example.com", "password": new},
        ),
        gateway.put("/v1/users/tom/password", json={"password": "tom@example.com"}, headers=ADMIN),
        gateway.put(
            "/v1/me/password",
            json={"current_password": TOM_PASSWORD, "new_password": new},
            headers=tom,
        ),
        gateway.put(
            "/v1/me/password",
            json={"current_password": TOM_PASSWORD, "new_password": "short"},
            headers=tom,
        ),
        gateway.post("/internal/v1/authenticate", json={"username": "x", "password": 7}),
    ]
    stored = _stored_hash(users_settings)
    secrets = (TOM_PASSWORD, new, stored, "$argon2")
    for answer in answers:
        for secret in secrets:
            assert secret not in answer.text, (answer.request.url, answer.text)
    assert caplog.records, "the routes log their outcomes"
    for record in caplog.records:
        line = record.getMessage() + repr(vars(record))
        for secret in secrets:
            assert secret not in line, line
    assert "password" not in gateway.get("/v1/users/tom", headers=ADMIN).json()
