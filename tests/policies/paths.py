"""The two evaluation paths side by side: the offline evaluator and the pack as the CLI serves it.

Resources are shaped the way the engine hands them to the analyzer:
- "up": every value known (what `pulumi up` checks after each resource is created);
- "preview": a fresh stack, so every value that comes from another resource's outputs (its id,
  principal id, endpoint, a random suffix) is the engine's unknown sentinel, and the property
  that carries it lists that resource in its property dependencies.
Both paths then judge the very same records, and `compare` lists where they differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies.config import PACK_DIR, PolicyConfig
from policies.constants import Environment
from policies.core import LEVELS, UNKNOWN, ResourceRecord, normalize
from policies.offline import evaluate
from policies.pack import build_policies
from policies.rules import RULES_BY_NAME

Mode = Literal["preview", "up"]
# A token shorter than this (e.g. "1", "Enabled") is not a reference worth following.
_MIN_TOKEN = 8


@dataclass(frozen=True)
class Outcome:
    """What one path said: violations (rule, urn, message, level) and undecided (rule, urn)."""

    violations: frozenset[tuple[str, str, str, str]]
    undecided: frozenset[tuple[str, str]]


def shape(recorded: Iterable[Any], mode: Mode) -> list[ResourceRecord]:
    """Custom resources of an offline run, as the engine would send them in `mode`."""
    custom = [r for r in recorded if r.custom]
    if mode == "up":
        # The offline evaluator knows ids after `up`; PolicyResource has no id to carry.
        return [_record(r, normalize(r.inputs), {}, r.id) for r in custom]
    tokens = {r.urn: _tokens(r) for r in custom}
    records = []
    for resource in custom:
        deps: dict[str, set[str]] = {}
        props = {
            key: _blank(value, key, resource.urn, tokens, deps)
            for key, value in resource.inputs.items()
        }
        records.append(_record(resource, normalize(props), deps, None))
    return records


def _record(
    resource: Any, props: dict[str, Any], deps: Mapping[str, set[str]], id_: str | None
) -> ResourceRecord:
    dependencies = set(resource.dependencies) | {u for us in deps.values() for u in us}
    return ResourceRecord(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        props=props,
        protect=bool(resource.protect),
        parent=resource.parent,
        dependencies=tuple(sorted(dependencies)),
        property_dependencies={k: tuple(sorted(v)) for k, v in deps.items()},
        id=id_ if isinstance(id_, str) and id_ else None,
    )


def _tokens(resource: Any) -> set[str]:
    """Values only the provider knows once the resource exists (id and computed outputs)."""
    given = {json.dumps(v, sort_keys=True, default=str) for v in resource.inputs.values()}
    found = {resource.id} if isinstance(resource.id, str) else set()
    for key, value in resource.outputs.items():
        if key == "name" and resource.type != "random:index/randomString:RandomString":
            continue
        if isinstance(value, str) and json.dumps(value) not in given:
            found.add(value)
    return {t for t in found if len(t) >= _MIN_TOKEN}


def _blank(
    value: Any, key: str, owner: str, tokens: Mapping[str, set[str]], deps: dict[str, set[str]]
) -> Any:
    if isinstance(value, Mapping):
        return {k: _blank(v, key, owner, tokens, deps) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_blank(v, key, owner, tokens, deps) for v in value]
    if isinstance(value, str):
        sources = {u for u, ts in tokens.items() if u != owner and any(t in value for t in ts)}
        if sources:
            deps.setdefault(key, set()).update(sources)
            return UNKNOWN_STRING_VALUE
    return value


# ---- the offline path --------------------------------------------------------------------


def offline(
    records: Sequence[ResourceRecord],
    environment: Environment,
    config: PolicyConfig,
    today: date,
    rules: Iterable[str] | None = None,
) -> Outcome:
    report = evaluate(records, environment, config, today)
    wanted = set(rules) if rules is not None else None
    violations = {
        (r.rule, r.urn or "", r.message, r.enforcement)
        for r in report.results
        if not r.exempted and RULES_BY_NAME[r.rule].kind != "offline"
    }
    undecided = {(n.rule, _note_urn(n.rule, n.urn)) for n in report.notes}
    # The pack reports one policy run's violations *instead of* its unknowns (the SDK allows
    # one outcome per run); a run is one resource for resource rules, the stack otherwise.
    decided = {(rule, _note_urn(rule, urn)) for rule, urn, _, _ in violations}
    undecided -= decided
    if wanted is not None:
        violations = {v for v in violations if v[0] in wanted}
        undecided = {u for u in undecided if u[0] in wanted}
    return Outcome(frozenset(violations), frozenset(undecided))


def _note_urn(rule: str, urn: str | None) -> str:
    return (urn or "") if RULES_BY_NAME[rule].kind == "resource" else ""


# ---- the pack path -----------------------------------------------------------------------


def pack(
    records: Sequence[ResourceRecord],
    environment: Environment,
    config: Mapping[str, Any],
    today: date,
    rules: Iterable[str] | None = None,
) -> Outcome:
    """Run the served policies the way the engine does: levels from config, config per policy."""
    wanted = set(rules) if rules is not None else None
    resources = _policy_resources(records)
    violations: set[tuple[str, str, str, str]] = set()
    undecided: set[tuple[str, str]] = set()
    for policy in build_policies(environment, today=lambda: today):
        if wanted is not None and policy.name not in wanted:
            continue
        level = _engine_level(policy.name, policy.enforcement_level.value, config)
        if level == "disabled":
            continue
        block = _policy_config(config.get(policy.name))
        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                args = ResourceValidationArgs(
                    resource.resource_type,
                    resource.props,
                    resource.urn,
                    resource.name,
                    resource.opts,
                    None,
                    block,
                )
                _run(policy, args, resource.urn, level, violations=violations, undecided=undecided)
        elif isinstance(policy, StackValidationPolicy):
            _run(
                policy,
                StackValidationArgs(resources, block),
                None,
                level,
                violations=violations,
                undecided=undecided,
            )
    return Outcome(frozenset(violations), frozenset(undecided))


def _run(
    policy: Any,
    args: Any,
    urn: str | None,
    level: str,
    *,
    violations: set[tuple[str, str, str, str]],
    undecided: set[tuple[str, str]],
) -> None:
    def report(message: str, at: str | None = None) -> None:
        violations.add((policy.name, at or urn or "", message, level))

    try:
        policy.validate(args, report)
    except UnknownValueError:
        undecided.add((policy.name, urn or ""))


def _engine_level(rule: str, declared: str, config: Mapping[str, Any]) -> str:
    """The engine's precedence: the rule's entry, else `all`, else what the pack declared."""
    entry = config.get(rule)
    if isinstance(entry, str) and entry in LEVELS:
        return entry
    if isinstance(entry, Mapping) and entry.get("enforcementLevel") in LEVELS:
        return str(entry["enforcementLevel"])
    if config.get("all") in LEVELS:
        return str(config["all"])
    return declared


def _policy_config(entry: Any) -> dict[str, Any] | None:
    if isinstance(entry, Mapping):
        return {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return None


def _policy_resources(records: Sequence[ResourceRecord]) -> list[PolicyResource]:
    by_urn: dict[str, PolicyResource] = {}
    for record in records:
        opts = PolicyResourceOptions(
            record.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], record.parent
        )
        by_urn[record.urn] = PolicyResource(
            record.type,
            unknown_checking_proxy(_engine_values(record.props)),
            record.urn,
            record.name,
            opts,
            None,
            None,
            [],
            {},
        )
    for record in records:
        resource = by_urn[record.urn]
        resource.dependencies.extend(by_urn[u] for u in record.dependencies if u in by_urn)
        for key, urns in record.property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[u] for u in urns if u in by_urn]
    return list(by_urn.values())


def _engine_values(value: Any) -> Any:
    """Plain JSON as protobuf carries it: UNKNOWN back to the sentinel, ints as floats."""
    if value is UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {k: _engine_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_engine_values(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def shipped_config(environment: Environment) -> dict[str, Any]:
    """policies/config.<environment>.json as CI passes it to `--policy-pack-config`."""
    path = PACK_DIR / f"config.{environment}.json"
    loaded: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return loaded
