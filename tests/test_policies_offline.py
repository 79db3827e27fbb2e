"""The offline evaluator: the same rules over recorded resources, levels, exemptions, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from policies.config import PolicyConfig
from policies.offline import OfflineResource, PolicyReport, evaluate, from_recorded
from policies.rules import outputs
from tests.policies.builders import TAGS, UNKNOWN_BOOL

TODAY = date(2026, 11, 23)
KV_TYPE = "azure-native:keyvault:Vault"
KV_URN = f"urn:pulumi:prod::platform::platform:security:Security${KV_TYPE}::security-vault"


@dataclass
class Recorded:
    """Shaped like offline.engine.RecordedResource."""

    urn: str
    type: str
    name: str
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    parent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    id: str | None = None


def _vault(**properties: Any) -> Recorded:
    props = {
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90.0,
        "enablePurgeProtection": True,
        "publicNetworkAccess": "Disabled",
        **properties,
    }
    return Recorded(
        urn=KV_URN,
        type=KV_TYPE,
        name="security-vault",
        custom=True,
        protect=True,
        inputs={
            "vaultName": "kv-plat-prod-wus2-abc123",
            "location": "westus2",
            "tags": TAGS,
            "properties": props,
        },
    )


COMPONENT = Recorded(
    urn="urn:pulumi:prod::platform::platform:security:Security::security",
    type="platform:security:Security",
    name="security",
    custom=False,
    protect=False,
    inputs={},
)


def _report(
    *recorded: Recorded, environment: str = "prod", config: PolicyConfig | None = None
) -> PolicyReport:
    return evaluate(from_recorded(recorded), environment, config or PolicyConfig(), TODAY)  # type: ignore[arg-type]


def _rules(report: PolicyReport) -> set[str]:
    return {r.rule for r in report.results}


def test_from_recorded_skips_components_and_normalizes() -> None:
    [resource] = from_recorded([COMPONENT, _vault(enablePurgeProtection=UNKNOWN_BOOL)])
    assert isinstance(resource, OfflineResource)
    assert resource.protect
    assert repr(resource.props["properties"]["enablePurgeProtection"]) == "<unknown during preview>"


def test_from_recorded_accepts_the_engines_records() -> None:
    from offline.engine import RecordedResource

    engine_record = RecordedResource(
        urn=KV_URN,
        type=KV_TYPE,
        name="security-vault",
        custom=True,
        parent=None,
        protect=True,
        inputs={"vaultName": "kv-a"},
        outputs={},
        id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-a",
    )
    [resource] = from_recorded([engine_record])
    assert resource.id is not None


def test_compliant_vault_only_misses_its_stack_companions() -> None:
    report = _report(_vault())
    # A vault alone has no private endpoint and no diagnostic setting in prod, and the stack
    # has no audit account.
    assert _rules(report) == {
        "private-endpoints-required",
        "diagnostic-settings-required",
        "audit-store-immutable",
    }
    assert all(r.enforcement == "mandatory" for r in report.results)
    assert not report.ok


def test_levels_per_environment() -> None:
    report = _report(_vault(enablePurgeProtection=False), environment="dev")
    kv = [r for r in report.results if r.rule == "keyvault-soft-delete-retention"]
    assert kv and kv[0].enforcement == "advisory"
    assert report.mandatory_violations == []
    assert report.ok


def test_per_rule_override_and_disabled_rules() -> None:
    config = PolicyConfig.from_mapping(
        {
            "diagnostic-settings-required": "disabled",
            "audit-store-immutable": "disabled",
            "private-endpoints-required": "advisory",
        }
    )
    report = _report(_vault(), config=config)
    assert _rules(report) == {"private-endpoints-required"}
    assert report.mandatory_violations == []
    assert len(report.advisory_violations) == 1


def test_exemptions_in_the_report() -> None:
    config = PolicyConfig.from_mapping(
        {
            "keyvault-no-public-network": {
                "exemptions": [
                    {"resource": "security-vault", "reason": "bootstrap", "expires": "2026-12-01"}
                ]
            },
            "keyvault-rbac-authorization": {
                "exemptions": [{"resource": KV_URN, "reason": "old vault", "expires": "2026-01-01"}]
            },
        }
    )
    report = _report(
        _vault(publicNetworkAccess="Enabled", enableRbacAuthorization=False), config=config
    )
    [exempted] = report.exempted
    assert exempted.rule == "keyvault-no-public-network"
    rbac = next(r for r in report.mandatory_violations if r.rule == "keyvault-rbac-authorization")
    assert "exemption expired on 2026-01-01" in rbac.message


def test_unknowns_are_notes_not_violations() -> None:
    report = _report(_vault(enablePurgeProtection=UNKNOWN_BOOL))
    assert "keyvault-purge-protection" not in _rules(report)
    assert [n.rule for n in report.notes] == ["keyvault-purge-protection"]
    assert report.notes[0].urn == KV_URN


def test_render_summarizes() -> None:
    text = _report(
        _vault(enablePurgeProtection=UNKNOWN_BOOL, publicNetworkAccess="Enabled")
    ).render()
    # No private endpoint, public access on, no firewall default of Deny, no audit account.
    assert text.startswith("Policy report (prod): 5 mandatory, 0 advisory, 0 exempted, 1 undecided")
    assert "[audit-store-immutable] (stack)" in text
    assert "[public-access-default-deny]" in text
    assert "Mandatory violations:" in text
    assert "[keyvault-no-public-network]" in text
    assert "Unknown until `pulumi up`" in text


def test_default_config_is_the_shipped_file() -> None:
    report = evaluate(from_recorded([_vault()]), "dev", None, TODAY)
    assert report.environment == "dev"


# ---- stack outputs (offline only) ------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs_", "secret", "count"),
    [
        ({"vaultUri": "https://kv.vault.azure.net/"}, (), 0),
        ({"storageConnectionString": "DefaultEndpointsProtocol=https;AccountKey=abc=="}, (), 1),
        (
            {"storageConnectionString": "DefaultEndpointsProtocol=https;AccountKey=abc=="},
            ("storageConnectionString",),
            0,
        ),
        ({"apimSubscriptionKey": "0123456789abcdef"}, (), 1),
        ({"apimSecretName": "apim-basic-auth"}, (), 0),
        ({"endpoints": {"orders": "https://x/?sv=2022&sig=abcd"}}, (), 1),
        ({"adminPassword": None}, (), 0),
    ],
)
def test_plaintext_secret_outputs(
    outputs_: dict[str, Any], secret: tuple[str, ...], count: int
) -> None:
    assert len(outputs.plaintext_secrets(outputs_, secret)) == count


def test_outputs_rule_runs_only_when_outputs_are_given() -> None:
    leaked = {"sqlPassword": "hunter2hunter2"}
    config = PolicyConfig.from_mapping({"all": "advisory"})
    without = evaluate([], "prod", config, TODAY)
    with_outputs = evaluate([], "prod", config, TODAY, stack_outputs=leaked, secret_outputs=set())
    # An empty stack misses its audit account either way.
    assert [r.rule for r in without.results] == ["audit-store-immutable"]
    assert [r.rule for r in with_outputs.results] == [
        "audit-store-immutable",
        "no-plaintext-secret-outputs",
    ]


# ---- stale exemptions (offline report) ---------------------------------------------------


def _exempt(rule: str, resource: str, expires: str = "2026-12-31") -> PolicyConfig:
    return PolicyConfig.from_mapping(
        {rule: {"exemptions": [{"resource": resource, "reason": "r", "expires": expires}]}}
    )


def test_an_exemption_naming_no_resource_is_stale() -> None:
    report = _report(_vault(), config=_exempt("keyvault-rbac-authorization", "security-kv-old"))
    [stale] = report.stale_exemptions
    assert (stale.rule, stale.resource) == ("keyvault-rbac-authorization", "security-kv-old")
    assert "names no resource of this stack" in stale.message
    assert "1 stale exemptions" in report.render().splitlines()[0]
    assert "[keyvault-rbac-authorization] security-kv-old" in report.render()


def test_an_exemption_on_a_compliant_resource_is_stale() -> None:
    report = _report(_vault(), config=_exempt("keyvault-rbac-authorization", "security-vault"))
    [stale] = report.stale_exemptions
    assert "has no keyvault-rbac-authorization violation" in stale.message


@pytest.mark.parametrize("resource", ["security-vault", KV_URN])
def test_an_exemption_that_suppresses_a_violation_is_not_stale(resource: str) -> None:
    report = _report(
        _vault(enableRbacAuthorization=False),
        config=_exempt("keyvault-rbac-authorization", resource),
    )
    assert [r.rule for r in report.exempted] == ["keyvault-rbac-authorization"]
    assert report.stale_exemptions == ()


def test_an_exemption_on_an_undecided_resource_is_not_stale() -> None:
    report = _report(
        _vault(enablePurgeProtection=UNKNOWN_BOOL),
        config=_exempt("keyvault-purge-protection", "security-vault"),
    )
    assert [n.rule for n in report.notes] == ["keyvault-purge-protection"]
    assert report.stale_exemptions == ()


def test_expired_exemptions_are_not_reported_stale() -> None:
    config = _exempt("keyvault-rbac-authorization", "security-kv-old", expires="2026-01-01")
    assert _report(_vault(), config=config).stale_exemptions == ()


@pytest.mark.parametrize("environment", ["dev", "qa", "staging", "prod"])
def test_shipped_exemptions_each_name_a_resource_of_their_stack(environment: str) -> None:
    from tests.conftest import stack_run

    run = stack_run(environment)
    report = evaluate(from_recorded(run.resources.values()), environment)  # type: ignore[arg-type]
    assert report.stale_exemptions == (), report.render()
