"""Run the pack's rules over a recorded program run, without pulumi_policy or the CLI.

    from policies.offline import evaluate, from_recorded
    report = evaluate(from_recorded(run.resources.values()), "prod",
                      stack_outputs=run.stack_outputs, secret_outputs=run.secret_outputs)
    print(report.render()); ok = not report.mandatory_violations

`config=None` uses the shipped policies/config.<environment>.json, as CI passes it to
`pulumi preview --policy-pack policies --policy-pack-config ...`; pass PolicyConfig() for
the rule defaults alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from policies.config import Exemption, PolicyConfig, RuleSettings, judge
from policies.constants import Environment
from policies.core import (
    Finding,
    Level,
    OutputsRule,
    ResourceRecord,
    ResourceRule,
    RuleContext,
    StackRule,
    normalize,
)
from policies.rules import RULES

OfflineResource = ResourceRecord


class RecordedLike(Protocol):
    """What from_recorded reads: offline.engine.RecordedResource, or anything shaped like it."""

    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def custom(self) -> bool: ...
    @property
    def protect(self) -> bool: ...
    @property
    def parent(self) -> str | None: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def dependencies(self) -> Sequence[str]: ...


def from_recorded(recorded: Iterable[RecordedLike]) -> list[OfflineResource]:
    """Custom resources as rule records; components (custom=False) are skipped."""
    return [
        OfflineResource(
            type=r.type,
            urn=r.urn,
            name=r.name,
            props=normalize(r.inputs),
            protect=bool(r.protect),
            parent=r.parent,
            dependencies=tuple(r.dependencies),
            id=_optional_str(getattr(r, "id", None)),
        )
        for r in recorded
        if r.custom
    ]


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class PolicyResult:
    """One violation: which rule, which resource, why, how enforced, and whether exempted."""

    rule: str
    urn: str | None
    message: str
    enforcement: Level
    exempted: bool = False


@dataclass(frozen=True)
class PolicyNote:
    """A check that could not decide because a value is unknown (preview only)."""

    rule: str
    urn: str | None
    message: str


@dataclass(frozen=True)
class StaleExemption:
    """A live exemption that leaves nothing out: it names no resource of the stack, or the
    resource it names has no violation of its rule. Left in place, it would silently cover
    the next real violation on whatever later takes that name."""

    rule: str
    resource: str
    expires: str
    why: str

    @property
    def message(self) -> str:
        return f"{self.why}; remove it (expires {self.expires})"


@dataclass(frozen=True)
class PolicyReport:
    """Everything one evaluation found."""

    environment: Environment
    results: tuple[PolicyResult, ...]
    notes: tuple[PolicyNote, ...] = ()
    stale_exemptions: tuple[StaleExemption, ...] = ()

    @property
    def mandatory_violations(self) -> list[PolicyResult]:
        return [r for r in self.results if r.enforcement == "mandatory" and not r.exempted]

    @property
    def advisory_violations(self) -> list[PolicyResult]:
        return [r for r in self.results if r.enforcement == "advisory" and not r.exempted]

    @property
    def exempted(self) -> list[PolicyResult]:
        return [r for r in self.results if r.exempted]

    @property
    def ok(self) -> bool:
        return not self.mandatory_violations

    def render(self) -> str:
        """A person's summary, mandatory first."""
        lines = [
            f"Policy report ({self.environment}): {len(self.mandatory_violations)} mandatory, "
            f"{len(self.advisory_violations)} advisory, {len(self.exempted)} exempted, "
            f"{len(self.notes)} undecided"
            + (f", {len(self.stale_exemptions)} stale exemptions" if self.stale_exemptions else "")
        ]
        sections: list[tuple[str, Sequence[PolicyResult | PolicyNote]]] = [
            ("Mandatory violations", self.mandatory_violations),
            ("Advisory violations", self.advisory_violations),
            ("Exempted", self.exempted),
            ("Unknown until `pulumi up`", self.notes),
        ]
        for title, items in sections:
            if not items:
                continue
            lines += ["", f"{title}:"]
            for item in sorted(items, key=lambda i: (i.rule, i.urn or "")):
                lines.append(f"  [{item.rule}] {item.urn or '(stack)'}")
                lines.append(f"      {item.message}")
        if self.stale_exemptions:
            lines += ["", "Stale exemptions (in the policy config, exempting nothing):"]
            for stale in sorted(self.stale_exemptions, key=lambda e: (e.rule, e.resource)):
                lines.append(f"  [{stale.rule}] {stale.resource}")
                lines.append(f"      {stale.message}")
        return "\n".join(lines)


def evaluate(
    resources: Sequence[OfflineResource],
    environment: Environment,
    config: PolicyConfig | None = None,
    today: date | None = None,
    *,
    stack_outputs: Mapping[str, Any] | None = None,
    secret_outputs: Collection[str] = (),
) -> PolicyReport:
    """Run every enabled rule with the same functions, levels and exemptions as the pack."""
    config = PolicyConfig.for_environment(environment) if config is None else config
    today = date.today() if today is None else today
    names = {r.urn: r.name for r in resources}
    results: list[PolicyResult] = []
    notes: list[PolicyNote] = []
    stale: list[StaleExemption] = []
    for rule in RULES:
        level = config.level(rule, environment)
        if level == "disabled":
            continue
        settings = config.settings(rule.name)
        found: list[Finding] = []
        if isinstance(rule, ResourceRule):
            for resource in resources:
                if not rule.applies_to(resource.type):
                    continue
                ctx = RuleContext(
                    environment, settings.options, resource.type, resource.urn, resource.name
                )
                found += [_at(f, resource.urn) for f in rule.check(resource.props, ctx)]
        elif isinstance(rule, StackRule):
            found = rule.check(resources, RuleContext(environment, settings.options))
        elif isinstance(rule, OutputsRule) and stack_outputs is not None:
            found = rule.check(stack_outputs, secret_outputs)
        _collect(
            rule.name,
            level=level,
            findings=found,
            names=names,
            settings=settings,
            today=today,
            results=results,
            notes=notes,
        )
        stale += _stale(rule.name, settings.exemptions, resources, found, today)
    return PolicyReport(environment, tuple(results), tuple(notes), tuple(stale))


def _stale(
    rule: str,
    exemptions: Sequence[Exemption],
    resources: Sequence[OfflineResource],
    findings: Sequence[Finding],
    today: date,
) -> list[StaleExemption]:
    """Live exemptions of one rule that match no resource, or no finding of the rule.

    A finding that is unknown until `pulumi up` still counts as one: the exemption may yet
    be needed. Expired exemptions are left out; the report already calls them expired when
    they match a violation, and they suppress nothing either way.
    """
    names = {r.urn: r.name for r in resources}
    out: list[StaleExemption] = []
    for exemption in exemptions:
        if exemption.expired(today):
            continue
        matched = [r for r in resources if exemption.matches(rule, r.urn, r.name)]
        if not matched:
            why = f"names no resource of this stack ({len(resources)} resources)"
        elif not any(
            f.urn is not None and exemption.matches(rule, f.urn, names.get(f.urn, ""))
            for f in findings
        ):
            why = f"the resource it names has no {rule} violation"
        else:
            continue
        out.append(StaleExemption(rule, exemption.resource, exemption.expires.isoformat(), why))
    return out


def _at(finding: Finding, urn: str) -> Finding:
    return finding if finding.urn else Finding(finding.message, urn, finding.unknown)


def _collect(
    rule: str,
    *,
    level: Level,
    findings: Sequence[Finding],
    names: Mapping[str, str],
    settings: RuleSettings,
    today: date,
    results: list[PolicyResult],
    notes: list[PolicyNote],
) -> None:
    for finding in findings:
        if finding.unknown:
            notes.append(PolicyNote(rule, finding.urn, finding.message))
            continue
        urn = finding.urn or ""
        judged = judge(
            rule,
            finding=finding,
            urn=urn,
            name=names.get(urn, ""),
            exemptions=settings.exemptions,
            today=today,
        )
        results.append(PolicyResult(rule, finding.urn, judged.message, level, judged.exempted))
