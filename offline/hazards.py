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


# ---- changes Azure refuses, or that destroy records: a base plan against this one ---------

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
WORM = "immutableStorageWithVersioning"
WORM_POLICY = f"{WORM}.immutabilityPolicy"
# Inputs whose change replaces a storage account (a new name or place is a new account, and
# version-level immutability is set only at creation).
ACCOUNT_REPLACED_BY = (
    "resourceGroupName",
    "accountName",
    "location",
    "isHnsEnabled",
    f"{WORM}.enabled",
)
# Inputs whose change replaces a blob container: its name and place, and its version-level
# immutability, stated when it is created (infra/audit). A container in a WORM account
# inherits it too, but only a container that states it is watched: the check reads one entry.
CONTAINER_REPLACED_BY = ("resourceGroupName", "accountName", "containerName", f"{WORM}.enabled")
WATCHED_TYPES = frozenset({STORAGE_ACCOUNT, BLOB_CONTAINER})
VERSION_WORM_SOURCE = (
    "https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies"
)
LOCKED_POLICY_SOURCE = (
    "https://learn.microsoft.com/azure/storage/blobs/immutable-policy-configure-version-scope"
)
POLICY_STATE_SOURCE = (
    "https://learn.microsoft.com/dotnet/api/"
    "azure.resourcemanager.storage.models.accountimmutabilitypolicy.state"
)

# One planned resource as snapshots/<stack>.json keeps it: type, name, inputs.
Entry = Mapping[str, Any]


@dataclass(frozen=True)
class ChangeHazard:
    """A change between a base plan and this one that Azure refuses or that loses records."""

    name: str
    reason: str
    source: str
    # (base entry or None, head entry or None) -> what is wrong, or None when nothing is.
    check: Callable[[Entry | None, Entry | None], str | None]
    fix: str = ""


def _get(entry: Entry | None, path: str) -> Any:
    node: Any = entry.get("inputs") if entry is not None else None
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _worm(entry: Entry | None) -> bool:
    """A storage account with version-level immutability on."""
    return (
        entry is not None
        and entry.get("type") == STORAGE_ACCOUNT
        and _get(entry, f"{WORM}.enabled") is True
    )


def _worm_container(entry: Entry | None) -> bool:
    """A blob container that states version-level immutability."""
    return (
        entry is not None
        and entry.get("type") == BLOB_CONTAINER
        and _get(entry, f"{WORM}.enabled") is True
    )


def _locked(entry: Entry | None) -> bool:
    return _worm(entry) and _get(entry, f"{WORM_POLICY}.state") == "Locked"


def _removed(base: Entry | None, head: Entry | None) -> str | None:
    if _worm(base) and head is None:
        return "the plan deletes a version-level WORM account"
    return None


def _replaced(base: Entry | None, head: Entry | None) -> str | None:
    if not (_worm(base) and head is not None):
        return None
    changed = [p for p in ACCOUNT_REPLACED_BY if _get(base, p) != _get(head, p)]
    if changed:
        return f"the plan replaces a version-level WORM account ({', '.join(changed)} change)"
    return None


def _container_removed(base: Entry | None, head: Entry | None) -> str | None:
    if _worm_container(base) and head is None:
        return "the plan deletes a version-level WORM container"
    return None


def _container_replaced(base: Entry | None, head: Entry | None) -> str | None:
    if not (_worm_container(base) and head is not None):
        return None
    changed = [p for p in CONTAINER_REPLACED_BY if _get(base, p) != _get(head, p)]
    if changed:
        return f"the plan replaces a version-level WORM container ({', '.join(changed)} change)"
    return None


def _enabled_later(base: Entry | None, head: Entry | None) -> str | None:
    if base is not None and not _worm(base) and _worm(head):
        return "the plan turns version-level immutability on for an existing account"
    return None


def _created_locked(base: Entry | None, head: Entry | None) -> str | None:
    if base is None and _locked(head):
        return "the plan creates an account whose immutability policy is already Locked"
    return None


def _locked_from_disabled(base: Entry | None, head: Entry | None) -> str | None:
    if _worm(base) and _get(base, f"{WORM_POLICY}.state") == "Disabled" and _locked(head):
        return "the plan locks an immutability policy that is Disabled"
    return None


def _unlocked(base: Entry | None, head: Entry | None) -> str | None:
    if _locked(base) and head is not None and _worm(head) and not _locked(head):
        state = _get(head, f"{WORM_POLICY}.state")
        return f"the plan sets a Locked immutability policy to {state or 'no state'}"
    return None


def _shortened(base: Entry | None, head: Entry | None) -> str | None:
    if not (_locked(base) and _worm(head)):
        return None
    before = _get(base, f"{WORM_POLICY}.immutabilityPeriodSinceCreationInDays")
    after = _get(head, f"{WORM_POLICY}.immutabilityPeriodSinceCreationInDays")
    if isinstance(before, int | float) and (not isinstance(after, int | float) or after < before):
        shown = f"{after:g}" if isinstance(after, int | float) else "no"
        return f"the plan shortens a Locked policy from {before:g} to {shown} days"
    return None


def _append_writes(base: Entry | None, head: Entry | None) -> str | None:
    path = f"{WORM_POLICY}.allowProtectedAppendWrites"
    if _locked(base) and _worm(head) and bool(_get(base, path)) != bool(_get(head, path)):
        return "the plan changes allowProtectedAppendWrites on a Locked policy"
    return None


CHANGE_HAZARDS: tuple[ChangeHazard, ...] = (
    ChangeHazard(
        name="worm-account-deleted",
        reason=(
            "Azure refuses to delete an account while it holds protected versions, and "
            "deleting it once they expire loses the records"
        ),
        source=VERSION_WORM_SOURCE,
        check=_removed,
    ),
    ChangeHazard(
        name="worm-account-replaced",
        reason=(
            "a replace deletes the old account, which Azure refuses while protected versions "
            "exist; version-level immutability is enabled only when an account is created"
        ),
        source=VERSION_WORM_SOURCE,
        check=_replaced,
    ),
    ChangeHazard(
        name="worm-enabled-after-creation",
        reason=(
            "account-level version immutability can only be set when the account is created; "
            "existing containers need a migration"
        ),
        source=VERSION_WORM_SOURCE,
        check=_enabled_later,
    ),
    ChangeHazard(
        name="worm-policy-created-locked",
        reason="Azure creates an account's policy only Disabled or Unlocked, then locks it",
        source=POLICY_STATE_SOURCE,
        check=_created_locked,
        fix=(
            "set platform:overrides.audit.createUnlocked = true for the creating `pulumi up` "
            "(with a dated exemption of audit-store-immutable), then remove it to lock"
        ),
    ),
    ChangeHazard(
        name="worm-policy-locked-from-disabled",
        reason="only a policy in an Unlocked state can transition to a Locked state",
        source=POLICY_STATE_SOURCE,
        check=_locked_from_disabled,
        fix="deploy the policy Unlocked first, then Locked in a later `pulumi up`",
    ),
    ChangeHazard(
        name="worm-locked-policy-unlocked",
        reason="a Locked policy can never be unlocked, disabled or removed",
        source=LOCKED_POLICY_SOURCE,
        check=_unlocked,
    ),
    ChangeHazard(
        name="worm-locked-policy-shortened",
        reason="a Locked policy's retention can only be extended, never shortened",
        source=LOCKED_POLICY_SOURCE,
        check=_shortened,
    ),
    ChangeHazard(
        name="worm-locked-append-writes",
        reason="allowProtectedAppendWrites can only change while the policy is Unlocked",
        source=POLICY_STATE_SOURCE,
        check=_append_writes,
    ),
    ChangeHazard(
        name="worm-container-deleted",
        reason=(
            "Azure refuses to delete a container while it holds protected versions, and "
            "deleting it once they expire loses the records"
        ),
        source=VERSION_WORM_SOURCE,
        check=_container_removed,
    ),
    ChangeHazard(
        name="worm-container-replaced",
        reason=(
            "a replace deletes the old container, which Azure refuses while protected "
            "versions exist; a container's name, account and version-level immutability "
            "are fixed when it is created"
        ),
        source=VERSION_WORM_SOURCE,
        check=_container_replaced,
    ),
)


def check_changes(
    base: Mapping[str, Entry],
    head: Mapping[str, Entry],
    hazards: Iterable[ChangeHazard] = CHANGE_HAZARDS,
) -> list[HazardViolation]:
    """Every change from `base` to `head` (resources by snapshot key) that a row forbids."""
    found: list[HazardViolation] = []
    keys = sorted(
        k
        for k in set(base) | set(head)
        if (base.get(k) or head.get(k) or {}).get("type") in WATCHED_TYPES
    )
    for hazard in hazards:
        for key in keys:
            problem = hazard.check(base.get(key), head.get(key))
            if problem is not None:
                found.append(
                    HazardViolation(
                        hazard=hazard.name,
                        first=key,
                        second=key,
                        message=f"{key}: {problem}, but {hazard.reason}"
                        + (f"; {hazard.fix}" if hazard.fix else ""),
                        source=hazard.source,
                    )
                )
    return found


def planned_entries(resources: Mapping[str, RecordedResource]) -> dict[str, Entry]:
    """This run's resources keyed as snapshots key them (the URN without stack and project)."""
    return {
        _snapshot_key(urn): {"type": r.type, "name": r.name, "inputs": r.inputs}
        for urn, r in resources.items()
        if r.custom
    }


def _snapshot_key(urn: str) -> str:
    parts = urn.split("::", 3)
    return parts[2] + "::" + parts[3]
