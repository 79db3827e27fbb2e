"""Registry layer: ACR per environment, identity pulls, image references by digest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from config.images import BOOTSTRAP_IMAGE, SERVICE_NAMES
from infra.security.rbac import BuiltInRole
from offline.engine import ProgramRun
from tests.conftest import stack_run

REGISTRY = "azure-native:containerregistry:Registry"
ROLE = "azure-native:authorization:RoleAssignment"
PE = "azure-native:network:PrivateEndpoint"
DIAG = "azure-native:monitor:DiagnosticSetting"
DIGEST = "sha256:" + "ab" * 32


def test_registry_has_no_admin_user_nor_anonymous_pull(any_stack: ProgramRun) -> None:
    acr = any_stack.one(REGISTRY)
    assert acr.inputs["adminUserEnabled"] is False
    assert acr.inputs["anonymousPullEnabled"] is False
    assert acr.inputs["registryName"].startswith("crplat")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_private_environments_get_premium_with_a_private_endpoint(stack: str) -> None:
    run = stack_run(stack)
    acr = run.one(REGISTRY)
    assert acr.inputs["sku"] == {"name": "Premium"}
    assert acr.inputs["publicNetworkAccess"] == "Disabled"
    assert acr.inputs["networkRuleSet"]["defaultAction"] == "Deny"
    endpoints = [pe for pe in run.by_type(PE) if pe.name == "registry-acr-pep"]
    assert len(endpoints) == 1
    connection = endpoints[0].inputs["privateLinkServiceConnections"][0]
    assert connection["groupIds"] == ["registry"]


@pytest.mark.parametrize("stack", ["dev", "qa"])
def test_public_environments_have_no_premium_only_network_rules(stack: str) -> None:
    acr = stack_run(stack).one(REGISTRY)
    assert acr.inputs["sku"] == {"name": "Basic"}
    assert "networkRuleSet" not in acr.inputs
    assert not [pe for pe in stack_run(stack).by_type(PE) if pe.name.startswith("registry")]


def test_each_service_identity_pulls_at_registry_scope(any_stack: ProgramRun) -> None:
    acr = any_stack.one(REGISTRY)
    pulls = [
        r
        for r in any_stack.by_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(BuiltInRole.ACR_PULL.value)
    ]
    assert sorted(p.name for p in pulls) == sorted(f"registry-acrpull-{s}" for s in SERVICE_NAMES)
    for pull in pulls:
        assert pull.inputs["scope"] == acr.outputs["id"]
        assert pull.inputs["principalType"] == "ServicePrincipal"


def test_registry_logs_to_the_workspace(any_stack: ProgramRun) -> None:
    acr = any_stack.one(REGISTRY)
    diags = [d for d in any_stack.by_type(DIAG) if d.inputs["resourceUri"] == acr.outputs["id"]]
    assert len(diags) == 1


def test_without_digests_every_service_bootstraps_and_says_so(any_stack: ProgramRun) -> None:
    outputs = any_stack.stack_outputs
    assert outputs["bootstrapped_images"] == list(SERVICE_NAMES)
    assert set(outputs["images"].values()) == {BOOTSTRAP_IMAGE}


def test_configured_digest_becomes_a_registry_reference(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = run_with("qa", **{"platform:images": json.dumps({"orders": DIGEST})})
    assert run.ok, (run.error, run.problems)
    server = run.stack_outputs["acr_login_server"]
    assert run.stack_outputs["images"]["orders"] == f"{server}/orders@{DIGEST}"
    assert "orders" not in run.stack_outputs["bootstrapped_images"]
    assert run.stack_outputs["images"]["users"] == BOOTSTRAP_IMAGE


@pytest.mark.parametrize(
    ("images", "fragment"),
    [
        ({"orders": "latest"}, "platform:images.orders"),
        ({"orders": "sha256:" + "AB" * 32}, "platform:images.orders"),
        ({"gateway": DIGEST}, "platform:images.gateway"),
    ],
)
def test_bad_image_config_is_refused_by_name(
    run_with: Callable[..., ProgramRun], images: dict[str, Any], fragment: str
) -> None:
    run = run_with("dev", **{"platform:images": json.dumps(images)})
    assert run.error is not None
    assert fragment in run.error
