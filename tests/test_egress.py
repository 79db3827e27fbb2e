"""Prod's egress allow-list: one table with a source per host, and the firewall rules from it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from config.settings import SubnetName, get_environment_settings
from infra.networking.egress import EGRESS_HOSTS, Consumer, Purpose, fqdns_by_purpose
from offline.engine import ProgramRun
from tests.conftest import stack_run

RULES = "azure-native:network:FirewallPolicyRuleCollectionGroup"

# What Container Apps, Flex Consumption, ACR pulls, managed identity, Key Vault, Monitor and the
# workers' third-party APIs need behind the firewall (Microsoft Learn "Use Azure Firewall with
# Azure Container Apps", Flex Consumption networking, Azure Monitor endpoints; seed 001).
REQUIRED_HOSTS = {
    "mcr.microsoft.com",
    "*.data.mcr.microsoft.com",
    "packages.aks.azure.com",
    "acs-mirror.azureedge.net",
    "*.azurecr.io",
    "*.blob.core.windows.net",
    "*.identity.azure.net",
    "login.microsoftonline.com",
    "*.login.microsoftonline.com",
    "login.microsoft.com",
    "*.login.microsoft.com",
    "*.vault.azure.net",
    "*.in.applicationinsights.azure.com",
    "*.queue.core.windows.net",
    "*.table.core.windows.net",
    "registers.esma.europa.eu",
    "firds.esma.europa.eu",
    "api.openfigi.com",
    "api.gleif.org",
}
FQDN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _application_rules(run: ProgramRun) -> list[dict[str, object]]:
    group = run.one(RULES).inputs
    return [rule for collection in group["ruleCollections"] for rule in collection["rules"]]


def _allowed(run: ProgramRun) -> set[str]:
    return {f for rule in _application_rules(run) for f in rule["targetFqdns"]}  # type: ignore[attr-defined]


def test_every_required_host_is_allowed_out_of_prod() -> None:
    allowed = _allowed(stack_run("prod"))
    missing = REQUIRED_HOSTS - allowed
    assert not missing, f"prod firewall lacks {sorted(missing)}"


def test_firewall_allows_exactly_the_table() -> None:
    assert _allowed(stack_run("prod")) == {h.fqdn for h in EGRESS_HOSTS}


def test_every_row_has_a_source_and_a_well_formed_unique_host() -> None:
    fqdns = [h.fqdn for h in EGRESS_HOSTS]
    assert len(fqdns) == len(set(fqdns))
    for host in EGRESS_HOSTS:
        assert FQDN.match(host.fqdn), host.fqdn
        assert host.source.startswith("https://"), host.fqdn
        assert host.consumers, host.fqdn


def test_every_workload_kind_has_its_platform_identity_and_monitor_hosts() -> None:
    for consumer in Consumer:
        purposes = {h.purpose for h in EGRESS_HOSTS if consumer in h.consumers}
        assert {Purpose.CONTAINER_PLATFORM, Purpose.IDENTITY, Purpose.MONITOR} <= purposes


def test_one_https_rule_per_purpose_from_the_app_and_functions_subnets() -> None:
    run = stack_run("prod")
    subnets = get_environment_settings("prod").network.subnets
    sources = {subnets[SubnetName.APP], subnets[SubnetName.FUNCTIONS]}
    rules = _application_rules(run)
    assert [r["name"] for r in rules] == [p.value for p in fqdns_by_purpose()]
    for rule in rules:
        assert rule["ruleType"] == "ApplicationRule"
        assert set(rule["sourceAddresses"]) == sources  # type: ignore[arg-type]
        assert rule["protocols"] == [{"protocolType": "Https", "port": 443}]


def test_a_stacks_extra_hosts_join_the_third_party_rule(
    run_with: Callable[..., ProgramRun],
) -> None:
    overrides = {"network": {"egressAllowedFqdns": ["api.example.com", "api.gleif.org"]}}
    run = run_with("prod", **{"platform:overrides": json.dumps(overrides)})
    assert run.error is None, run.error
    (third_party,) = [r for r in _application_rules(run) if r["name"] == "third-party-apis"]
    fqdns = third_party["targetFqdns"]
    assert "api.example.com" in fqdns  # type: ignore[operator]
    assert fqdns.count("api.gleif.org") == 1  # type: ignore[attr-defined]


def test_only_prod_has_a_firewall() -> None:
    for stack in ("dev", "qa", "staging"):
        assert stack_run(stack).by_type(RULES) == []
