"""Sibling writes Azure refuses to run at once or in the wrong order, and the plan check for them.

Mocks accept any order, and so does `pulumi preview`; Azure does not. Each row of
`SERIAL_HAZARDS` names two kinds of resource that share one write lock (or one prerequisite)
in Azure, how to tell that two such resources touch the same parent, and the report or
documentation that shows the failure. `check` walks the dependency graph the engine recorded
(explicit `depends_on`, the parent, and every input that came from another resource's
output) and reports each pair the engine could start at the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from offline.engine import RecordedResource

# What identifies the parent two resources both write to; None when a resource names none.
ScopeKey = Callable[[RecordedResource], tuple[str, ...] | None]


def _inputs_key(*names: str) -> ScopeKey:
    """Parent identity from the resource's own name inputs (ARM names are case-insensitive)."""

    def key(resource: RecordedResource) -> tuple[str, ...] | None:
        values = [resource.inputs.get(name) for name in names]
        if any(not isinstance(v, str) or not v for v in values):
            return None
        return tuple(str(v).lower() for v in values)

    return key


def _firewall_policy_key(resource: RecordedResource) -> tuple[str, ...] | None:
    """A firewall names its policy by ARM id; a rule collection group by group and name."""
    if resource.type == FIREWALL:
        policy = resource.inputs.get("firewallPolicy")
        policy_id = policy.get("id") if isinstance(policy, Mapping) else None
        if not isinstance(policy_id, str):
            return None
        parts = policy_id.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        if "resourcegroups" not in lowered:
            return None
        group = parts[lowered.index("resourcegroups") + 1]
        return (group.lower(), parts[-1].lower())
    return _inputs_key("resourceGroupName", "firewallPolicyName")(resource)


REDIS_ASSIGNMENT = "azure-native:redisenterprise:AccessPolicyAssignment"
FIREWALL = "azure-native:network:AzureFirewall"
RULE_COLLECTION_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
SQL_ALERT_POLICY = "azure-native:sql:ServerSecurityAlertPolicy"
SQL_VULNERABILITY_ASSESSMENTS = (
    "azure-native:sql:SqlVulnerabilityAssessmentsSetting",
    "azure-native:sql:ServerVulnerabilityAssessment",
)


@dataclass(frozen=True)
class SerialHazard:
    """Two kinds of resource that Azure cannot write concurrently (or in the wrong order)."""

    name: str
    first: frozenset[str]
    second: frozenset[str]
    scope: ScopeKey
    # True: every `second` must come after every `first` on the same parent. False: any
    # order, as long as one waits for the other.
    ordered: bool
    reason: str
    source: str


SERIAL_HAZARDS: tuple[SerialHazard, ...] = (
    SerialHazard(
        name="redis-access-policy-assignments",
        first=frozenset({REDIS_ASSIGNMENT}),
        second=frozenset({REDIS_ASSIGNMENT}),
        scope=_inputs_key("resourceGroupName", "clusterName", "databaseName"),
        ordered=False,
        reason=(
            "Azure Managed Redis accepts one access policy assignment write per database at a "
            "time and fails the others"
        ),
        source="https://github.com/Azure/azure-dev/issues/6640, "
        "https://github.com/microsoft/aspire/issues/13043",
    ),
    SerialHazard(
        name="firewall-policy-writes",
        first=frozenset({FIREWALL, RULE_COLLECTION_GROUP}),
        second=frozenset({RULE_COLLECTION_GROUP}),
        scope=_firewall_policy_key,
        ordered=False,
        reason=(
            "a firewall policy takes one write at a time, and every rule collection group "
            "write also updates the firewalls using the policy: concurrent writes fail with "
            "FirewallPolicyUpdateNotAllowedWhenUpdatingOrDeleting / AnotherOperationInProgress"
        ),
        source="https://github.com/hashicorp/terraform-provider-azurerm/issues/15440",
    ),
    SerialHazard(
        name="sql-vulnerability-assessment-after-alert-policy",
        first=frozenset({SQL_ALERT_POLICY}),
        second=frozenset(SQL_VULNERABILITY_ASSESSMENTS),
        scope=_inputs_key("resourceGroupName", "serverName"),
        ordered=True,
        reason=(
            "vulnerability assessment needs Defender for SQL (the server security alert "
            "policy) enabled first, or fails with VulnerabilityAssessmentADSIsDisabled"
        ),
        source="https://github.com/Azure/azure-quickstart-templates/issues/6355",
    ),
)


@dataclass(frozen=True)
class HazardViolation:
    """Two resources the engine could write in a way Azure refuses."""

    hazard: str
    first: str
    second: str
    message: str
    source: str

    def __str__(self) -> str:
        return f"{self.hazard}: {self.message} (source: {self.source})"


class DependencyGraph:
    """What each resource waits for before the engine creates it, transitively."""

    def __init__(self, resources: Mapping[str, RecordedResource]) -> None:
        self._edges: dict[str, frozenset[str]] = {
            urn: frozenset(
                [*resource.dependencies, *([resource.parent] if resource.parent else [])]
            )
            for urn, resource in resources.items()
        }
        self._closure: dict[str, frozenset[str]] = {}

    def waits_for(self, urn: str) -> frozenset[str]:
        """Every resource `urn` is created after: dependencies, parents, and theirs."""
        if urn in self._closure:
            return self._closure[urn]
        seen: set[str] = set()
        stack = list(self._edges.get(urn, ()))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self._edges.get(current, ()))
        self._closure[urn] = frozenset(seen)
        return self._closure[urn]

    def ordered(self, before: str, after: str) -> bool:
        return before in self.waits_for(after)


def check(
    resources: Mapping[str, RecordedResource],
    hazards: Iterable[SerialHazard] = SERIAL_HAZARDS,
) -> list[HazardViolation]:
    """Every pair of serial-only siblings the recorded graph lets run at once (or reversed)."""
    graph = DependencyGraph(resources)
    found: list[HazardViolation] = []
    for hazard in hazards:
        groups: dict[tuple[str, ...], list[RecordedResource]] = {}
        for resource in resources.values():
            if resource.custom and resource.type in hazard.first | hazard.second:
                key = hazard.scope(resource)
                if key is not None:
                    groups.setdefault(key, []).append(resource)
        for members in groups.values():
            found += _pairs(hazard, sorted(members, key=lambda r: r.urn), graph)
    return found


def _pairs(
    hazard: SerialHazard, members: list[RecordedResource], graph: DependencyGraph
) -> list[HazardViolation]:
    out: list[HazardViolation] = []
    for index, a in enumerate(members):
        for b in members[index + 1 :]:
            if hazard.ordered:
                out += [
                    v
                    for first, second in ((a, b), (b, a))
                    if first.type in hazard.first and second.type in hazard.second
                    for v in _must_follow(hazard, first, second, graph)
                ]
                continue
            related = (a.type in hazard.first and b.type in hazard.second) or (
                b.type in hazard.first and a.type in hazard.second
            )
            if related and not (graph.ordered(a.urn, b.urn) or graph.ordered(b.urn, a.urn)):
                out.append(
                    HazardViolation(
                        hazard=hazard.name,
                        first=a.urn,
                        second=b.urn,
                        message=(
                            f"{a.urn} and {b.urn} can be written at the same time, but "
                            f"{hazard.reason}; make one depend on the other (depends_on)"
                        ),
                        source=hazard.source,
                    )
                )
    return out


def _must_follow(
    hazard: SerialHazard,
    first: RecordedResource,
    second: RecordedResource,
    graph: DependencyGraph,
) -> list[HazardViolation]:
    if graph.ordered(first.urn, second.urn):
        return []
    return [
        HazardViolation(
            hazard=hazard.name,
            first=first.urn,
            second=second.urn,
            message=(
                f"{second.urn} does not wait for {first.urn}, but {hazard.reason}; "
                f"give {second.name} depends_on={first.name}"
            ),
            source=hazard.source,
        )
    ]


def as_rows(violations: Iterable[HazardViolation]) -> list[dict[str, Any]]:
    """Plain data for the plan's JSON."""
    return [
        {
            "hazard": v.hazard,
            "first": v.first,
            "second": v.second,
            "message": v.message,
            "source": v.source,
        }
        for v in violations
    ]
