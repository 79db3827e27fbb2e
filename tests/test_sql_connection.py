"""SQL connection policy: set explicitly on the server, and the data subnet's NSG matching it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from config.settings import (
    ENVIRONMENTS,
    SettingsError,
    SubnetName,
    get_environment_settings,
    load_stack_settings,
)
from infra.networking.nsg import sql_ports
from offline.engine import ProgramRun, load_stack_config
from tests.conftest import stack_run
from tests.test_networking import _nsg, allowed

POLICY = "azure-native:resources:Resource"


def _policy(run: ProgramRun) -> tuple[dict[str, object], object]:
    """The primary server's policy (prod's failover partner has its own, set the same way)."""
    policies = [
        r for r in run.by_type(POLICY) if r.inputs.get("resourceType") == "connectionPolicies"
    ]
    assert len(policies) == len(run.by_type("azure-native:sql:Server"))
    (found,) = [p for p in policies if p.name.startswith("database-sql")]
    return found.inputs, found


def test_sql_ports_for_each_policy_and_path() -> None:
    assert sql_ports("Proxy", private_endpoint=True) == ("1433",)
    assert sql_ports("Proxy", private_endpoint=False) == ("1433",)
    assert sql_ports("Redirect", private_endpoint=False) == ("1433", "11000-11999")
    assert sql_ports("Redirect", private_endpoint=True) == ("1433-65535",)


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_connection_policy_is_set_explicitly_on_the_server(stack: str) -> None:
    run = stack_run(stack)
    inputs, resource = _policy(run)
    (server,) = [r for r in run.by_type("azure-native:sql:Server") if r.name == "database-sql"]
    assert inputs["resourceProviderNamespace"] == "Microsoft.Sql"
    assert inputs["parentResourcePath"] == f"servers/{server.inputs['serverName']}"
    assert inputs["resourceName"] == "default"
    assert inputs["resourceGroupName"] == server.inputs["resourceGroupName"]
    assert inputs["apiVersion"] == "2021-11-01"
    assert inputs["properties"] == {
        "connectionType": get_environment_settings(stack).database.connection_policy
    }
    assert resource.parent == server.urn
    assert resource.retain_on_delete is True
    assert server.urn in resource.dependencies


def _with_policy(run_with: Callable[..., ProgramRun], stack: str, policy: str) -> ProgramRun:
    overrides = {"database": {"connectionPolicy": policy}}
    run = run_with(stack, **{"platform:overrides": json.dumps(overrides)})
    assert run.error is None, run.error
    assert _policy(run)[0]["properties"] == {"connectionType": policy}
    return run


def _data_allows(run: ProgramRun, source: SubnetName, port: str) -> bool:
    cidr = get_environment_settings(run.stack).network.subnets[source]
    return allowed(_nsg(run, SubnetName.DATA), cidr, port)


CLIENTS = (SubnetName.APP, SubnetName.FUNCTIONS, SubnetName.MANAGEMENT)


def test_redirect_through_private_endpoints_opens_1433_to_65535() -> None:
    run = stack_run("prod")  # Redirect, private endpoints
    for source in CLIENTS:
        for port in ("1433", "11000", "11999", "20000", "65535"):
            assert _data_allows(run, source, port), (source, port)
        assert not _data_allows(run, source, "1432")
    assert not _data_allows(run, SubnetName.MANAGEMENT, "443")
    assert not _data_allows(run, SubnetName.GATEWAY, "1433")


def test_proxy_through_private_endpoints_opens_1433_only(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = _with_policy(run_with, "prod", "Proxy")
    for source in CLIENTS:
        assert _data_allows(run, source, "1433")
        for port in ("1432", "1434", "11000", "11999", "65535"):
            assert not _data_allows(run, source, port), (source, port)


def test_redirect_on_the_public_endpoint_opens_the_node_range() -> None:
    run = stack_run("dev")  # Redirect, no private endpoints
    for source in CLIENTS:
        for port in ("1433", "11000", "11999"):
            assert _data_allows(run, source, port), (source, port)
        for port in ("1434", "10999", "12000"):
            assert not _data_allows(run, source, port), (source, port)


def test_proxy_on_the_public_endpoint_opens_1433_only(
    run_with: Callable[..., ProgramRun],
) -> None:
    run = _with_policy(run_with, "dev", "Proxy")
    for source in CLIENTS:
        assert _data_allows(run, source, "1433")
        assert not _data_allows(run, source, "11000")


def test_other_data_ports_do_not_follow_the_policy() -> None:
    run = stack_run("prod")
    for source in (SubnetName.APP, SubnetName.FUNCTIONS):
        assert _data_allows(run, source, "443") and _data_allows(run, source, "10000")


def test_only_proxy_or_redirect_are_accepted() -> None:
    config, _ = load_stack_config("dev")
    config["platform:overrides"] = json.dumps({"database": {"connectionPolicy": "Default"}})
    with pytest.raises(SettingsError) as caught:
        load_stack_settings("dev", config)
    message = str(caught.value)
    assert "platform:overrides.database.connectionPolicy" in message
    assert "'Proxy' or 'Redirect'" in message
