"""Users API: accounts, roles, the forwarded caller identity and RBAC."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from platform_common.testing import caller_headers

ADMIN = caller_headers("ada", "admin")
TOM: dict[str, Any] = {
    "id": "tom",
    "display_name": "Tom Trader",
    "email": "tom@example.com",
    "roles": ["trader", "viewer", "trader"],
}


def test_create_get_and_update_roles(users_client: TestClient) -> None:
    created = users_client.post("/v1/users", json=TOM, headers=ADMIN)
    assert created.status_code == 201
    assert created.json()["roles"] == ["trader", "viewer"]
    own = users_client.get("/v1/users/tom", headers=caller_headers("tom", "trader"))
    assert own.status_code == 200
    updated = users_client.put(
        "/v1/users/tom/roles", json={"roles": ["risk_manager"]}, headers=ADMIN
    )
    assert updated.json()["roles"] == ["risk_manager"]
    listed = users_client.get("/v1/users", params={"role": "risk_manager"}, headers=ADMIN).json()
    assert [u["id"] for u in listed["items"]] == ["tom"]
    assert users_client.get("/v1/users", params={"role": "risk"}, headers=ADMIN).status_code == 422


def test_me_reflects_gateway_headers(users_client: TestClient) -> None:
    users_client.post("/v1/users", json=TOM, headers=ADMIN)
    me = users_client.get("/v1/me", headers=caller_headers("tom", "trader", "bogus")).json()
    assert me["caller_id"] == "tom"
    assert me["forwarded_roles"] == ["trader"]
    assert me["account"]["email"] == "tom@example.com"
    stranger = users_client.get("/v1/me", headers=caller_headers("zed")).json()
    assert stranger["account"] is None
    assert stranger["forwarded_roles"] == []
    anonymous = users_client.get("/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")


def test_rbac(users_client: TestClient) -> None:
    assert users_client.post("/v1/users", json=TOM).status_code == 401
    assert (
        users_client.post(
            "/v1/users", json=TOM, headers=caller_headers("tom", "trader")
        ).status_code
        == 403
    )
    users_client.post("/v1/users", json=TOM, headers=ADMIN)
    # Another user's account looks missing, so account ids cannot be enumerated.
    other = users_client.get("/v1/users/tom", headers=caller_headers("tina", "trader"))
    assert other.status_code == 404
    assert users_client.get("/v1/users/tom", headers=caller_headers("tom")).status_code == 200
    assert users_client.get("/v1/users/nobody", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        dict(TOM, email="not-an-email"),
        dict(TOM, roles=[]),
        dict(TOM, roles=["superuser"]),
        dict(TOM, id="has space"),
        dict(TOM, unexpected=True),
    ],
)
def test_invalid_user_is_422_and_not_written(
    users_client: TestClient, body: dict[str, Any]
) -> None:
    response = users_client.post("/v1/users", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert users_client.get("/v1/users", headers=ADMIN).json()["total"] == 0


def test_duplicate_is_409(users_client: TestClient) -> None:
    assert users_client.post("/v1/users", json=TOM, headers=ADMIN).status_code == 201
    duplicate_email = dict(TOM, id="tom2")
    assert users_client.post("/v1/users", json=duplicate_email, headers=ADMIN).status_code == 409


def test_email_uniqueness_ignores_case(users_client: TestClient) -> None:
    assert users_client.post("/v1/users", json=TOM, headers=ADMIN).status_code == 201
    shouted = dict(TOM, id="tom2", email="Tom@Example.COM")
    clash = users_client.post("/v1/users", json=shouted, headers=ADMIN)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    # The address is kept as typed; only the uniqueness key is lower-cased.
    other = users_client.post(
        "/v1/users", json=dict(TOM, id="tim", email="Tim@Example.com"), headers=ADMIN
    )
    assert other.json()["email"] == "Tim@Example.com"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("display_name", "Tom\x07Trader", "U+0007"),
        ("display_name", "Tom\nTrader", "U+000A"),
        ("display_name", "Tom\u202eredarT", "U+202E"),  # right-to-left override
        ("display_name", "Tom\u2028Trader", "U+2028"),
        ("email", "tom\x00@example.com", "U+0000"),
    ],
)
def test_control_characters_in_names_are_refused(
    users_client: TestClient, field: str, value: str, code: str
) -> None:
    response = users_client.post("/v1/users", json=dict(TOM, **{field: value}), headers=ADMIN)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["loc"] == ["body", field]
    assert code in errors[0]["msg"]
    assert "control characters" in errors[0]["msg"]


def test_printable_unicode_names_are_kept(users_client: TestClient) -> None:
    name = "Zoë Ångström \U0001f468\u200d\U0001f4bb"  # the joiner in an emoji sequence stays
    created = users_client.post("/v1/users", json=dict(TOM, display_name=name), headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == name


@pytest.mark.parametrize("reserved", ["svc-workers", "SVC-Workers", "svc-gateway", "erased-x"])
def test_ids_reserved_for_workloads_and_erased_users_are_refused(
    users_client: TestClient, reserved: str
) -> None:
    # An account named like the workers would carry their caller id (and its internal
    # routes) to every service once signed in through the gateway.
    answer = users_client.post("/v1/users", json={**TOM, "id": reserved}, headers=ADMIN)
    assert answer.status_code == 422
    assert "reserved" in answer.text
    assert users_client.get(f"/v1/users/{reserved}", headers=ADMIN).status_code == 404
