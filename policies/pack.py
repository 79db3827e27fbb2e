"""Adapter from the rule table to pulumi_policy policies; imports pulumi_policy, serves nothing.

Environment: the pack serves one stack, so the environment is resolved once when the pack
starts (policies.config.environment_from_process: `platform:environment`, else the stack
name). When that fails (e.g. `pulumi policy publish`), each resource's `environment` tag
decides, and "prod", the strictest, when there is none.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from policies.config import EXEMPTIONS_SCHEMA, RuleSettings, environment_from_tags, judge
from policies.constants import Environment
from policies.core import (
    Finding,
    Level,
    ResourceRecord,
    ResourceRule,
    RuleContext,
    StackRule,
    normalize,
)
from policies.rules import RULES

FALLBACK_ENVIRONMENT: Environment = "prod"

_LEVELS: Mapping[Level, EnforcementLevel] = {
    "advisory": EnforcementLevel.ADVISORY,
    "mandatory": EnforcementLevel.MANDATORY,
    "disabled": EnforcementLevel.DISABLED,
}


def build_policies(
    environment: Environment | None, today: Callable[[], date] = date.today
) -> list[Policy]:
    """One pulumi_policy policy per resource or stack rule, at the environment's levels."""
    policies: list[Policy] = []
    for rule in RULES:
        if isinstance(rule, ResourceRule):
            policies.append(resource_policy(rule, environment, today))
        elif isinstance(rule, StackRule):
            policies.append(stack_policy(rule, environment, today))
    return policies


def _schema(rule: ResourceRule | StackRule) -> PolicyConfigSchema:
    properties = {"exemptions": EXEMPTIONS_SCHEMA, **rule.options_schema}
    plain: dict[str, dict[str, Any]] = json.loads(json.dumps(properties))
    return PolicyConfigSchema(properties=plain)


def resource_policy(
    rule: ResourceRule, environment: Environment | None, today: Callable[[], date] = date.today
) -> ResourceValidationPolicy:
    """Wrap a resource rule: normalize props, run the rule, apply exemptions, report."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        props = normalize(args.props)
        settings = RuleSettings.parse(rule.name, _config(args.get_config()))
        env = environment or environment_from_tags(props.get("tags")) or FALLBACK_ENVIRONMENT
        ctx = RuleContext(env, settings.options, args.resource_type, args.urn, args.name)
        findings = rule.check(props, ctx)
        _report(
            rule.name,
            findings=findings,
            names={args.urn: args.name},
            default_urn=args.urn,
            settings=settings,
            today=today(),
            report_violation=report_violation,
        )

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=_LEVELS[rule.enforcement[environment or FALLBACK_ENVIRONMENT]],
        config_schema=_schema(rule),
    )


def stack_policy(
    rule: StackRule, environment: Environment | None, today: Callable[[], date] = date.today
) -> StackValidationPolicy:
    """Wrap a stack rule: turn PolicyResources into records, run the rule, report per URN."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        records = [record_of(r) for r in args.resources]
        settings = RuleSettings.parse(rule.name, _config(args.get_config()))
        env = environment or _majority_environment(records) or FALLBACK_ENVIRONMENT
        findings = rule.check(records, RuleContext(env, settings.options))
        names = {r.urn: r.name for r in records}
        _report(
            rule.name,
            findings=findings,
            names=names,
            default_urn=None,
            settings=settings,
            today=today(),
            report_violation=report_violation,
        )

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=_LEVELS[rule.enforcement[environment or FALLBACK_ENVIRONMENT]],
        config_schema=_schema(rule),
    )


def record_of(resource: PolicyResource) -> ResourceRecord:
    """A PolicyResource as the rules see it (plain props, URNs instead of objects)."""
    parent = resource.parent.urn if resource.parent is not None else resource.opts.parent
    return ResourceRecord(
        type=resource.resource_type,
        urn=resource.urn,
        name=resource.name,
        props=normalize(resource.props),
        protect=bool(resource.opts.protect),
        parent=parent,
        dependencies=tuple(d.urn for d in resource.dependencies),
        property_dependencies={
            key: tuple(d.urn for d in deps)
            for key, deps in (resource.property_dependencies or {}).items()
        },
    )


def _config(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    return normalize(raw) if raw else {}


def _majority_environment(records: Sequence[ResourceRecord]) -> Environment | None:
    seen = Counter(
        env for r in records if (env := environment_from_tags(r.props.get("tags"))) is not None
    )
    return seen.most_common(1)[0][0] if seen else None


def _report(
    rule: str,
    *,
    findings: Sequence[Finding],
    names: Mapping[str, str],
    default_urn: str | None,
    settings: RuleSettings,
    today: date,
    report_violation: ReportViolation,
) -> None:
    """Report violations (after exemptions); with none, surface unknowns as the SDK's advisory."""
    reported = False
    notes: list[str] = []
    for finding in findings:
        if finding.unknown:
            notes.append(finding.message)
            continue
        urn = finding.urn or default_urn or ""
        judged = judge(
            rule,
            finding=finding,
            urn=urn,
            name=names.get(urn, ""),
            exemptions=settings.exemptions,
            today=today,
        )
        if judged.exempted:
            continue
        report_violation(judged.message, finding.urn)
        reported = True
    if notes and not reported:
        # The engine turns this into an advisory "can't run policy during preview" note.
        error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
        error.message = "; ".join(notes)
        raise error
