"""The rule table: every rule of the pack, in the order the compliance table lists them."""

from __future__ import annotations

from policies.core import AnyRule
from policies.rules import (
    acr,
    apim,
    audit,
    common,
    containerapps,
    frontdoor,
    frontend,
    identity,
    keyvault,
    monitoring,
    network,
    network_defaults,
    optional_stores,
    outputs,
    recovery,
    servicebus,
    sql,
    stack,
    storage,
    web,
)

RULES: tuple[AnyRule, ...] = (
    *common.RULES,
    *storage.RULES,
    *audit.RULES,
    *keyvault.RULES,
    *servicebus.RULES,
    *sql.RULES,
    *web.RULES,
    *containerapps.RULES,
    *acr.RULES,
    *apim.RULES,
    *network.RULES,
    *network_defaults.RULES,
    *identity.RULES,
    *frontdoor.RULES,
    *frontend.RULES,
    *monitoring.RULES,
    *optional_stores.RULES,
    *stack.RULES,
    *recovery.RULES,
    *outputs.RULES,
)

RULES_BY_NAME: dict[str, AnyRule] = {rule.name: rule for rule in RULES}
if len(RULES_BY_NAME) != len(RULES):
    raise RuntimeError("two rules share a name; policy names must be unique in a pack")
