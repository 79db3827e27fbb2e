"""Caller identity from the gateway's headers, at its edges: lengths, roles, 401 versus 403."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from platform_common.authz import Access, PermissionTable, Rule, Scope, authorize
from platform_common.errors import ProblemError, install_problem_handlers
from platform_common.identifiers import is_valid_lei
from platform_common.identity import (
    CALLER_ID_HEADER,
    CALLER_ROLES_HEADER,
    Caller,
    Role,
    get_caller,
    parse_roles,
)

TABLE: PermissionTable = {
    "trade": Rule({Role.TRADER: Scope.ALL, Role.ADMIN: Scope.ALL}),
    "review": Rule({Role.RISK_MANAGER: Scope.ALL}),
}


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/who")
    def who(caller: Annotated[Caller, Depends(get_caller)]) -> dict[str, object]:
        return {"id": caller.caller_id, "roles": sorted(caller.roles)}

    @app.post("/trade")
    def trade(
        access: Annotated[Access, Depends(authorize(TABLE, "trade"))],
    ) -> dict[str, str]:
        return {"id": access.caller.caller_id}

    return TestClient(app)


def test_caller_id_of_exactly_128_characters_passes_and_129_fails() -> None:
    client = _client()
    assert client.get("/who", headers={CALLER_ID_HEADER: "u" * 128}).status_code == 200
    assert client.get("/who", headers={CALLER_ID_HEADER: "u" * 129}).status_code == 422
    assert client.post("/trade", headers={CALLER_ID_HEADER: "u" * 129}).status_code == 422
    headers = {CALLER_ID_HEADER: "u" * 128, CALLER_ROLES_HEADER: "trader"}
    assert client.post("/trade", headers=headers).status_code == 200


def test_roles_header_of_exactly_512_characters_passes_and_513_fails() -> None:
    client = _client()
    exact = ("viewer," * 80)[:512]
    assert len(exact) == 512
    for path, method in (("/who", client.get), ("/trade", client.post)):
        ok = method(path, headers={CALLER_ID_HEADER: "u", CALLER_ROLES_HEADER: exact})
        assert ok.status_code in (200, 403), path
        too_long = method(path, headers={CALLER_ID_HEADER: "u", CALLER_ROLES_HEADER: exact + ","})
        assert too_long.status_code == 422, path


def test_no_or_blank_identity_is_a_401_with_a_basic_challenge() -> None:
    client = _client()
    for headers in ({}, {CALLER_ID_HEADER: "   "}):
        for response in (
            client.get("/who", headers=headers),
            client.post("/trade", headers=headers),
        ):
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Basic realm="platform"'
            assert CALLER_ID_HEADER in response.json()["detail"]


def test_identity_is_trimmed_and_roles_are_parsed() -> None:
    response = _client().get(
        "/who", headers={CALLER_ID_HEADER: "  alice ", CALLER_ROLES_HEADER: "Viewer, TRADER"}
    )
    assert response.json() == {"id": "alice", "roles": ["trader", "viewer"]}


def test_a_role_outside_the_allowed_ones_is_a_403_naming_them() -> None:
    client = _client()
    response = client.post(
        "/trade", headers={CALLER_ID_HEADER: "bob", CALLER_ROLES_HEADER: "viewer"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "trade requires one of roles: admin, trader."
    no_roles = client.post("/trade", headers={CALLER_ID_HEADER: "bob"})
    assert no_roles.status_code == 403
    for role in ("trader", "admin", "viewer,admin"):
        ok = client.post("/trade", headers={CALLER_ID_HEADER: "bob", CALLER_ROLES_HEADER: role})
        assert ok.status_code == 200, role


def test_authorize_raises_the_problem_itself() -> None:
    dependency = authorize(TABLE, "review")
    granted = asyncio.run(dependency("carol", "risk_manager"))
    assert granted.caller.roles == frozenset({Role.RISK_MANAGER})
    with pytest.raises(ProblemError) as caught:
        asyncio.run(dependency("carol", "trader"))
    assert caught.value.status == 403
    with pytest.raises(ProblemError) as caught:
        asyncio.run(dependency(None, "risk_manager"))
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("raw", "roles"),
    [
        (None, set()),
        ("", set()),
        (",,", set()),
        ("ADMIN", {Role.ADMIN}),
        (" risk_manager ,viewer", {Role.RISK_MANAGER, Role.VIEWER}),
        ("root,trader", {Role.TRADER}),
    ],
)
def test_parse_roles(raw: str | None, roles: set[Role]) -> None:
    assert parse_roles(raw) == frozenset(roles)


def test_an_lei_is_valid_only_at_remainder_one() -> None:
    # HWUPKR0MPOU8FGXBT394 is 1 mod 97; one less in the check digits is 0 mod 97.
    assert is_valid_lei("HWUPKR0MPOU8FGXBT394")
    assert not is_valid_lei("HWUPKR0MPOU8FGXBT393")
    assert not is_valid_lei("HWUPKR0MPOU8FGXBT395")


def test_a_caller_cannot_be_given_roles_after_the_gateway_named_them() -> None:
    caller = Caller("erin", frozenset({Role.VIEWER}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        caller.roles = frozenset({Role.ADMIN})  # type: ignore[misc]
