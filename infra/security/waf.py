"""Front Door WAF policy: managed rule sets where the environment asks, and a rate limit."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import frontdoor

from config.settings import FrontDoorSku, SecuritySettings

# Managed rule sets need Front Door Premium:
# https://learn.microsoft.com/azure/web-application-firewall/afds/afds-overview
MANAGED_RULE_SETS = (
    ("Microsoft_DefaultRuleSet", "2.1", "Block"),
    ("Microsoft_BotManagerRuleSet", "1.1", "Block"),
)


def create_waf_policy(
    name: str,
    *,
    azure_name: str,
    resource_group_name: pulumi.Input[str],
    security: SecuritySettings,
    sku: FrontDoorSku,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> frontdoor.Policy:
    """Detection in dev/qa, prevention in staging/prod, as the settings say.

    Managed rule sets come from `security.wafManagedRules`; the settings validator has
    already refused them on a tier without them (Standard).
    """
    if security.waf_managed_rules and sku is not FrontDoorSku.PREMIUM:
        raise ValueError(f"managed WAF rule sets need {FrontDoorSku.PREMIUM.value}, not {sku}")
    return frontdoor.Policy(
        f"{name}-waf",
        policy_name=azure_name,
        resource_group_name=resource_group_name,
        location="Global",
        sku=frontdoor.SkuArgs(name=sku.value),
        policy_settings=frontdoor.PolicySettingsArgs(
            enabled_state="Enabled",
            mode=security.waf_mode,
            request_body_check="Enabled",
        ),
        custom_rules=frontdoor.CustomRuleListArgs(
            rules=[
                frontdoor.CustomRuleArgs(
                    name="RateLimitPerClientIp",
                    priority=100,
                    rule_type="RateLimitRule",
                    rate_limit_duration_in_minutes=1,
                    rate_limit_threshold=security.waf_rate_limit_per_minute,
                    group_by=[frontdoor.GroupByVariableArgs(variable_name="SocketAddr")],
                    match_conditions=[
                        frontdoor.MatchConditionArgs(
                            match_variable="RequestUri", operator="Contains", match_value=["/"]
                        )
                    ],
                    action="Block",
                )
            ]
        ),
        managed_rules=(
            frontdoor.ManagedRuleSetListArgs(
                managed_rule_sets=[
                    frontdoor.ManagedRuleSetArgs(
                        rule_set_type=rule_set, rule_set_version=version, rule_set_action=action
                    )
                    for rule_set, version, action in MANAGED_RULE_SETS
                ]
            )
            if security.waf_managed_rules
            else None
        ),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
