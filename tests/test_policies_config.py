"""Enforcement per environment, per-rule overrides, exemptions and the shipped config files."""

from __future__ import annotations

import json
from datetime import date

import pytest

from policies.config import (
    Exemption,
    PolicyConfig,
    PolicyConfigError,
    RuleSettings,
    environment_from_process,
    environment_from_tags,
    judge,
)
from policies.constants import ENVIRONMENTS
from policies.core import ALWAYS_MANDATORY, Finding
from policies.rules import RULES, RULES_BY_NAME

SQL_PUBLIC = RULES_BY_NAME["sql-no-public-network"]
NSG_MANAGEMENT = RULES_BY_NAME["nsg-no-internet-management-ports"]
URN = "urn:pulumi:prod::platform::platform:database:Database$azure-native:sql:Server::database-sql"
NAME = "database-sql"
TODAY = date(2026, 11, 23)
FINDING = Finding('publicNetworkAccess = "Enabled"')


def _exemption(
    rule: str = "sql-no-public-network", resource: str = URN, expires: str = "2026-12-31"
) -> Exemption:
    return Exemption.parse(
        rule, {"resource": resource, "reason": "migration window", "expires": expires}
    )


# ---- enforcement -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "level"),
    [("dev", "advisory"), ("qa", "advisory"), ("staging", "mandatory"), ("prod", "mandatory")],
)
def test_default_levels_follow_the_environment(environment: str, level: str) -> None:
    assert PolicyConfig().level(SQL_PUBLIC, environment) == level  # type: ignore[arg-type]


def test_some_rules_are_mandatory_everywhere() -> None:
    assert NSG_MANAGEMENT.enforcement == ALWAYS_MANDATORY
    assert PolicyConfig().level(NSG_MANAGEMENT, "dev") == "mandatory"


def test_per_rule_override_beats_all_and_the_default() -> None:
    config = PolicyConfig.from_mapping(
        {"all": "advisory", "sql-no-public-network": {"enforcementLevel": "disabled"}}
    )
    assert config.level(SQL_PUBLIC, "prod") == "disabled"
    assert config.level(NSG_MANAGEMENT, "prod") == "advisory"


def test_short_form_override() -> None:
    config = PolicyConfig.from_mapping({"sql-no-public-network": "mandatory"})
    assert config.level(SQL_PUBLIC, "dev") == "mandatory"


def test_bad_levels_and_unknown_rules_are_rejected() -> None:
    with pytest.raises(PolicyConfigError, match="enforcement level 'blocking'"):
        PolicyConfig.from_mapping({"sql-no-public-network": "blocking"})
    with pytest.raises(PolicyConfigError, match="unknown rule 'sql-public'"):
        PolicyConfig.from_mapping({"sql-public": "advisory"}, [r.name for r in RULES])


def test_rule_options_are_kept_apart_from_reserved_keys() -> None:
    settings = RuleSettings.parse(
        "containerapp-internal-ingress",
        {"enforcementLevel": "advisory", "exemptions": [], "allowedExternalApps": ["ca-web"]},
    )
    assert settings.enforcement == "advisory"
    assert dict(settings.options) == {"allowedExternalApps": ["ca-web"]}


# ---- exemptions ------------------------------------------------------------------------


def test_valid_exemption_suppresses() -> None:
    judged = judge(
        "sql-no-public-network",
        finding=FINDING,
        urn=URN,
        name=NAME,
        exemptions=[_exemption()],
        today=TODAY,
    )
    assert judged.exempted
    assert "exempted until 2026-12-31: migration window" in judged.message


def test_exemption_by_logical_name() -> None:
    exemption = _exemption(resource=NAME)
    judged = judge(
        "sql-no-public-network",
        finding=FINDING,
        urn=URN,
        name="",
        exemptions=[exemption],
        today=TODAY,
    )
    assert judged.exempted


def test_exemption_is_valid_through_its_expiry_date() -> None:
    exemption = _exemption(expires="2026-11-23")
    assert judge(
        "sql-no-public-network",
        finding=FINDING,
        urn=URN,
        name=NAME,
        exemptions=[exemption],
        today=TODAY,
    ).exempted


def test_expired_exemption_is_reported() -> None:
    exemption = _exemption(expires="2026-11-22")
    judged = judge(
        "sql-no-public-network",
        finding=FINDING,
        urn=URN,
        name=NAME,
        exemptions=[exemption],
        today=TODAY,
    )
    assert not judged.exempted
    assert "exemption expired on 2026-11-22: migration window" in judged.message


def test_exemption_for_another_rule_does_not_apply() -> None:
    exemption = _exemption(rule="sql-min-tls")
    judged = judge(
        "sql-no-public-network",
        finding=FINDING,
        urn=URN,
        name=NAME,
        exemptions=[exemption],
        today=TODAY,
    )
    assert not judged.exempted
    assert judged.message == FINDING.message


def test_exemption_for_another_resource_does_not_apply() -> None:
    exemption = _exemption(resource="database-sql-replica")
    assert not judge(
        "sql-no-public-network",
        finding=FINDING,
        urn=URN,
        name=NAME,
        exemptions=[exemption],
        today=TODAY,
    ).exempted


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"resource": URN, "reason": "x"}, "lacks expires"),
        ({"resource": URN, "expires": "2026-12-31"}, "lacks reason"),
        ({"resource": URN, "reason": "x", "expires": "31/12/2026"}, "not an ISO date"),
        ("database-sql", "must be an object"),
    ],
)
def test_malformed_exemptions_are_rejected(data: object, error: str) -> None:
    with pytest.raises(PolicyConfigError, match=error):
        Exemption.parse("sql-no-public-network", data)


def test_exemptions_parse_from_the_rule_block(tmp_path: object) -> None:
    config = PolicyConfig.from_mapping(
        {
            "sql-no-public-network": {
                "exemptions": [{"resource": URN, "reason": "r", "expires": "2027-01-01"}]
            }
        }
    )
    [exemption] = config.settings("sql-no-public-network").exemptions
    assert exemption.rule == "sql-no-public-network"
    assert exemption.expires == date(2027, 1, 1)


# ---- the environment -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PULUMI_STACK": "prod"}, "prod"),
        ({"PULUMI_STACK": "acme/staging"}, "staging"),
        (
            {
                "PULUMI_STACK": "prod-eu",
                "PULUMI_CONFIG": json.dumps({"platform:environment": "prod"}),
            },
            "prod",
        ),
        ({"PULUMI_STACK": "sandbox"}, None),
        ({"PULUMI_CONFIG": "not json"}, None),
        ({}, None),
    ],
)
def test_environment_from_the_stack(env: dict[str, str], expected: str | None) -> None:
    assert environment_from_process(env) == expected


def test_environment_from_tags() -> None:
    assert environment_from_tags({"environment": "qa"}) == "qa"
    assert environment_from_tags({"environment": "production"}) is None
    assert environment_from_tags(None) is None


# ---- shipped config files --------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_shipped_config_files_are_valid(environment: str) -> None:
    config = PolicyConfig.for_environment(environment)  # type: ignore[arg-type]
    assert config.all is None, "`all` would flatten the per-rule defaults"
    for rule, settings in config.rules.items():
        allowed = {"exemptions", *RULES_BY_NAME[rule].options_schema}
        assert set(settings.options) <= allowed, f"{rule}: options outside its schema"


def test_shipped_levels_stay_advisory_in_dev_and_mandatory_in_prod_for_most_rules() -> None:
    dev, prod = PolicyConfig.for_environment("dev"), PolicyConfig.for_environment("prod")
    assert dev.level(SQL_PUBLIC, "dev") == "advisory"
    assert all(prod.level(rule, "prod") == "mandatory" for rule in RULES)
