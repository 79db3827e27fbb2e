"""Azure resource names: CAF abbreviations with per-type length and charset rules.

https://learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/resource-abbreviations
https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import pulumi

SUFFIX_LENGTH = 6

# Short environment codes keep globally unique names (storage: 24 characters) within limits.
ENVIRONMENT_CODES = {"dev": "dev", "qa": "qa", "staging": "stg", "prod": "prod"}


class Charset(StrEnum):
    """What characters a resource type's name may hold."""

    HYPHENATED = "hyphenated"  # letters, digits, hyphens; starts with a letter
    LOWER_ALNUM = "lower-alnum"  # lowercase letters and digits only (storage, ACR)
    LOWER_HYPHENATED = "lower-hyphenated"  # lowercase letters, digits, hyphens (SQL, Cosmos)


_CHARSET_PATTERNS = {
    Charset.HYPHENATED: re.compile(r"^[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$"),
    Charset.LOWER_ALNUM: re.compile(r"^[a-z0-9]+$"),
    Charset.LOWER_HYPHENATED: re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$"),
}


@dataclass(frozen=True)
class NamingRule:
    """CAF abbreviation and Azure's limits for one resource type."""

    abbreviation: str
    min_length: int
    max_length: int
    charset: Charset
    globally_unique: bool = False


RULES: dict[str, NamingRule] = {
    "resource_group": NamingRule("rg", 1, 90, Charset.HYPHENATED),
    "virtual_network": NamingRule("vnet", 2, 64, Charset.HYPHENATED),
    "subnet": NamingRule("snet", 1, 80, Charset.HYPHENATED),
    "network_security_group": NamingRule("nsg", 1, 80, Charset.HYPHENATED),
    "nat_gateway": NamingRule("ng", 1, 80, Charset.HYPHENATED),
    "public_ip": NamingRule("pip", 1, 80, Charset.HYPHENATED),
    "private_endpoint": NamingRule("pep", 2, 64, Charset.HYPHENATED),
    "ddos_plan": NamingRule("ddos", 1, 80, Charset.HYPHENATED),
    "firewall": NamingRule("afw", 1, 80, Charset.HYPHENATED),
    "firewall_policy": NamingRule("afwp", 1, 80, Charset.HYPHENATED),
    "route_table": NamingRule("rt", 1, 80, Charset.HYPHENATED),
    "key_vault": NamingRule("kv", 3, 24, Charset.HYPHENATED, globally_unique=True),
    "managed_identity": NamingRule("id", 3, 128, Charset.HYPHENATED),
    "log_analytics": NamingRule("log", 4, 63, Charset.HYPHENATED),
    "app_insights": NamingRule("appi", 1, 255, Charset.HYPHENATED),
    "action_group": NamingRule("ag", 1, 260, Charset.HYPHENATED),
    "alert": NamingRule("alert", 1, 260, Charset.HYPHENATED),
    "workbook": NamingRule("wb", 1, 260, Charset.HYPHENATED),
    "budget": NamingRule("budget", 1, 63, Charset.HYPHENATED),
    "sql_server": NamingRule("sql", 1, 63, Charset.LOWER_HYPHENATED, globally_unique=True),
    "sql_database": NamingRule("sqldb", 1, 128, Charset.HYPHENATED),
    "service_bus": NamingRule("sbns", 6, 50, Charset.HYPHENATED, globally_unique=True),
    "storage_account": NamingRule("st", 3, 24, Charset.LOWER_ALNUM, globally_unique=True),
    "data_factory": NamingRule("adf", 3, 63, Charset.HYPHENATED, globally_unique=True),
    "redis": NamingRule("amr", 1, 60, Charset.HYPHENATED, globally_unique=True),
    "cosmos_account": NamingRule("cosmos", 3, 44, Charset.LOWER_HYPHENATED, globally_unique=True),
    "function_app": NamingRule("func", 2, 60, Charset.HYPHENATED, globally_unique=True),
    "app_service_plan": NamingRule("asp", 1, 60, Charset.HYPHENATED),
    "container_registry": NamingRule("cr", 5, 50, Charset.LOWER_ALNUM, globally_unique=True),
    "container_apps_environment": NamingRule("cae", 2, 60, Charset.LOWER_HYPHENATED),
    "container_app": NamingRule("ca", 2, 32, Charset.LOWER_HYPHENATED),
    "api_management": NamingRule("apim", 1, 50, Charset.HYPHENATED, globally_unique=True),
    "front_door": NamingRule("afd", 1, 260, Charset.HYPHENATED),
    "front_door_endpoint": NamingRule("fde", 1, 46, Charset.HYPHENATED, globally_unique=True),
    "waf_policy": NamingRule("waf", 1, 128, Charset.LOWER_ALNUM),
    "static_web_app": NamingRule("stapp", 1, 40, Charset.HYPHENATED),
}


class NamingError(ValueError):
    """A name that Azure would reject; raised before any resource is registered."""


@dataclass(frozen=True)
class Namer:
    """Builds `<abbr>-<workload>[-<role>]-<env>-<region>[-<suffix>]` names for one stack."""

    workload: str
    environment: str
    region_code: str

    def name(self, kind: str, role: str | None = None) -> str:
        """A name for a resource that is unique within its resource group."""
        rule = _rule(kind)
        if rule.globally_unique:
            raise NamingError(f"{kind} names must be globally unique: use unique_name()")
        return self._compose(kind, rule, role, suffix=None)

    def unique_name(
        self, kind: str, suffix: pulumi.Input[str], role: str | None = None
    ) -> pulumi.Output[str]:
        """A globally unique name: the stack's stable random suffix appended.

        Checked now with a placeholder suffix of the same length, so an over-long name
        fails at start-up rather than inside an apply.
        """
        rule = _rule(kind)
        self._compose(kind, rule, role, suffix="0" * SUFFIX_LENGTH)
        return pulumi.Output.from_input(suffix).apply(
            lambda value: self._compose(kind, rule, role, suffix=value)
        )

    def _compose(self, kind: str, rule: NamingRule, role: str | None, suffix: str | None) -> str:
        environment = ENVIRONMENT_CODES.get(self.environment, self.environment)
        parts = [rule.abbreviation, self.workload, role, environment, self.region_code, suffix]
        words = [p for p in parts if p]
        if rule.charset is Charset.LOWER_ALNUM:
            candidate = "".join(w.lower() for w in words)
            candidate = re.sub(r"[^a-z0-9]", "", candidate)
        elif rule.charset is Charset.LOWER_HYPHENATED:
            candidate = "-".join(words).lower()
        else:
            candidate = "-".join(words)
        return check_name(kind, candidate)


def check_name(kind: str, candidate: str) -> str:
    """Return `candidate` if Azure accepts it for `kind`, else raise a NamingError that says why."""
    rule = _rule(kind)
    if not rule.min_length <= len(candidate) <= rule.max_length:
        raise NamingError(
            f"{kind} name {candidate!r} is {len(candidate)} characters; "
            f"allowed: {rule.min_length}-{rule.max_length}"
        )
    if not _CHARSET_PATTERNS[rule.charset].match(candidate):
        raise NamingError(f"{kind} name {candidate!r} breaks the {rule.charset.value} charset rule")
    if "--" in candidate and kind in {"key_vault", "container_app", "sql_server"}:
        raise NamingError(f"{kind} name {candidate!r} must not contain consecutive hyphens")
    return candidate


def _rule(kind: str) -> NamingRule:
    try:
        return RULES[kind]
    except KeyError:
        raise NamingError(
            f"unknown resource kind {kind!r}; known: {', '.join(sorted(RULES))}"
        ) from None
