"""The offline plan command: text, JSON, diff and exit codes, with figures that match settings."""

from __future__ import annotations

import json

import pytest

from config.settings import ENVIRONMENTS, get_environment_settings
from offline import plan
from tests.conftest import stack_run


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_json_plan_agrees_with_settings(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main([stack, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    settings = get_environment_settings(stack)
    assert data["ok"] is True
    assert data["environment"] == stack
    assert data["settings"]["network"]["vnetCidr"] == settings.network.vnet_cidr
    assert data["settings"]["features"] == settings.features.model_dump(by_alias=True)
    assert data["resource_count"] == sum(data["counts_by_type"].values())
    assert data["resource_count"] == sum(sum(c.values()) for c in data["counts_by_layer"].values())
    assert data["outputs"]["environment"] == stack
    assert data["problems"] == []
    assert data["policy"]["ok"] is True
    assert data["policy"]["mandatory"] == []
    assert data["policy"]["stale_exemptions"] == []


def test_text_plan_shows_tree_counts_flags_and_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev"]) == 0
    text = capsys.readouterr().out
    assert "Stack dev (project platform, environment dev)" in text
    assert "on   enableCosmosDb" in text and "off  enableCdn" in text
    assert "vnet                         10.0.0.0/16" in text
    assert "core  (platform:core:Core)" in text
    assert "    core-rg  (azure-native:resources:ResourceGroup)" in text
    assert "Counts by layer" in text
    assert 'resource_group_name: "rg-plat-dev-wus2"' in text


def test_diff_shows_what_differs(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["staging", "--diff", "prod"]) == 0
    text = capsys.readouterr().out
    assert "network.enableFirewall: false -> true" in text
    assert "security.softDeleteRetentionDays: 30 -> 90" in text
    assert "features.enableRedis: false -> true" in text


def test_diff_lists_resources_only_in_one_stack() -> None:
    left, right = plan.summarize(stack_run("staging")), plan.summarize(stack_run("prod"))
    result = plan.diff(left, right)
    assert "azure-native:network:AzureFirewall networking-firewall" in result["only_right"]
    assert "azure-native:network:DdosProtectionPlan networking-ddos" in result["only_right"]
    assert "azure-native:privatedns:PrivateZone networking-dns-redis" in result["only_right"]
    # Staging's classic Developer gateway is injected and needs its stv2 public IP; prod's
    # Standard v2 integrates outbound and has none.
    assert result["only_left"] == ["azure-native:network:PublicIPAddress gateway-pip"]
    reverse = plan.diff(right, left)
    assert reverse["only_left"] == result["only_right"]


def test_bad_stack_exits_non_zero_with_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["perf"]) == 1
    text = capsys.readouterr().out
    assert "ERROR: the program stopped before deploying anything" in text
    assert "unknown stack 'perf'" in text


def test_secret_outputs_are_masked() -> None:
    run = stack_run("dev")
    fake = plan.summarize(run)
    assert plan.MASK not in json.dumps(fake["outputs"])  # nothing secret is exported yet
    run.secret_outputs.add("location")
    try:
        assert plan.summarize(run)["outputs"]["location"] == plan.MASK
    finally:
        run.secret_outputs.discard("location")


def test_text_plan_ends_with_the_policy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["prod"]) == 0
    text = capsys.readouterr().out
    assert "Policy report (prod): 0 mandatory" in text


def test_a_mandatory_policy_violation_fails_the_plan() -> None:
    run = stack_run("staging")
    vault = run.one("azure-native:keyvault:Vault")
    original = vault.inputs
    vault.inputs = {
        **original,
        "properties": {**original["properties"], "enableRbacAuthorization": False},
    }
    try:
        summary = plan.summarize(run)
    finally:
        vault.inputs = original
    assert summary["ok"] is False
    assert summary["policy"]["ok"] is False
    rules = {v["rule"] for v in summary["policy"]["mandatory"]}
    assert any("keyvault" in rule for rule in rules)
    assert plan.summarize(run)["ok"] is True


def test_a_stale_exemption_fails_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    from policies.config import PolicyConfig

    config = PolicyConfig.from_mapping(
        {
            "rbac-narrow-scope": {
                "exemptions": [
                    {
                        "resource": "security-kv-secrets-user-orders",
                        "reason": "a vault-wide grant that no longer exists",
                        "expires": "2999-12-31",
                    }
                ]
            },
            # The shipped exemption (policies/config.prod.json), so the pack has nothing else.
            "keyvault-secret-key-expiry": {
                "exemptions": [
                    {
                        "resource": "security-secret-appinsights-connection-string",
                        "reason": "not a credential",
                        "expires": "2999-12-31",
                    }
                ]
            },
        }
    )
    monkeypatch.setattr(PolicyConfig, "for_environment", classmethod(lambda cls, env: config))
    summary = plan.summarize(stack_run("prod"))
    assert summary["ok"] is False
    assert summary["policy"]["ok"] is True  # the pack itself has nothing to refuse
    [stale] = summary["policy"]["stale_exemptions"]
    assert stale["resource"] == "security-kv-secrets-user-orders"
    assert "names no resource of this stack" in stale["message"]
    assert "Stale exemptions" in plan.render_text(summary)
