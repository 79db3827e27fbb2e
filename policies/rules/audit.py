"""The audit store: version-level WORM with a time-based policy, Locked for five years in prod.

The audit account is the storage account tagged `purpose: audit-trail` (infra/audit), or one
holding the `audit-records` container, so neither a lost tag nor a renamed account hides it.
Tag name and value match case-insensitively, as Azure compares tag names. Every stack keeps
its records there, so a stack with no audit account at all is a violation too.

A container-level policy (storage:BlobContainerImmutabilityPolicy) takes precedence over the
account's default policy for every version in its container, shorter or not, and its state is
an output the pack never sees before the deploy (it is locked by a separate action). The layer
relies on the account default alone (infra/audit), so the rule allows no container-level
policy on any container of the audit account: a shorter or unlocked one would quietly
override the policy this rule checks, and an equal one adds nothing.
https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.constants import AUDIT_CONTAINER, AUDIT_PURPOSE_TAG, MIFID_RECORD_KEEPING_DAYS
from policies.core import (
    MISSING,
    UNKNOWN,
    Finding,
    ResourceRecord,
    RuleContext,
    StackRule,
    as_number,
    azure_name,
    lookup,
    of_type,
    unknown,
    violation,
)

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
CONTAINER_POLICY = "azure-native:storage:BlobContainerImmutabilityPolicy"
POLICY = "immutableStorageWithVersioning.immutabilityPolicy"
# Where the records are kept for the regulator: Locked, at least MiFID II's five years.
RECORD_KEEPING_ENVIRONMENTS = frozenset({"prod"})


def audit_store(resources: Sequence[ResourceRecord], ctx: RuleContext) -> list[Finding]:
    """Each audit account keeps versions immutable under a time-based policy nobody can undo."""
    containers = of_type(resources, CONTAINER)
    services = of_type(resources, BLOB_SERVICE)
    container_policies = of_type(resources, CONTAINER_POLICY)
    findings: list[Finding] = []
    found = undecided_accounts = 0
    for account in of_type(resources, ACCOUNT):
        records: list[ResourceRecord] = []
        undecided: list[ResourceRecord] = []
        for container in containers:
            on, name = _on(container, account), lookup(container.props, "containerName")
            if on is True and name == AUDIT_CONTAINER:
                records.append(container)
            elif on is not False and name in (AUDIT_CONTAINER, UNKNOWN):
                undecided.append(container)
        tagged = _tagged(account)
        if tagged is not True and not records:
            if tagged is None or undecided:
                undecided_accounts += 1
                findings.append(unknown("tags / BlobContainer.containerName", account.urn))
            continue
        found += 1
        findings += [Finding(f.message, account.urn, f.unknown) for f in _account(account, ctx)]
        findings += _versioning(account, services)
        for container in records:
            findings += [
                Finding(f.message, container.urn, f.unknown) for f in _container(container)
            ]
        # A container that may be the records' own is judged once its name and account are known.
        findings += [unknown("BlobContainer.accountName / containerName", c.urn) for c in undecided]
        mine = [c for c in containers if _on(c, account) is True]
        findings += _container_policies(account, mine, container_policies)
    if not found and not undecided_accounts:
        findings.append(
            violation(
                f"the stack has no audit account (a storage account tagged "
                f"{AUDIT_PURPOSE_TAG[0]}={AUDIT_PURPOSE_TAG[1]}, or holding the "
                f"{AUDIT_CONTAINER} container): every stack keeps its audit records in a "
                "version-level WORM store (infra/audit)"
            )
        )
    return findings


def _container_policies(
    account: ResourceRecord,
    containers: Sequence[ResourceRecord],
    policies: Sequence[ResourceRecord],
) -> list[Finding]:
    """No container of the audit account carries its own policy over the account's default."""
    out: list[Finding] = []
    for policy in policies:
        on = _policy_on(policy, account, containers)
        if on is None:
            out.append(
                unknown("BlobContainerImmutabilityPolicy.accountName / containerName", policy.urn)
            )
        elif on:
            days = lookup(policy.props, "immutabilityPeriodSinceCreationInDays")
            shown = f"{as_number(days)} days" if isinstance(days, int | float) else "its days"
            out.append(
                violation(
                    f"a container-level immutability policy ({shown}) on a container of the "
                    "audit account: it takes precedence over the account's default policy, "
                    "may be shorter or unlocked, and its lock is invisible before the deploy; "
                    "allowed: none (the account's policy keeps every version)",
                    policy.urn,
                )
            )
    return out


def _policy_on(
    policy: ResourceRecord, account: ResourceRecord, containers: Sequence[ResourceRecord]
) -> bool | None:
    """Whether a container-level policy sits on one of `account`'s containers; None: unknown."""
    mine = {account.urn, *(c.urn for c in containers)}
    if policy.parent in mine:
        return True
    on = _on(policy, account)
    if on is True:
        return True
    name = lookup(policy.props, "containerName")
    if name is UNKNOWN:
        deps = policy.property_dependencies.get("containerName") or policy.dependencies
        if mine & set(deps):
            return True
    return on


def _tagged(account: ResourceRecord) -> bool | None:
    key, value = AUDIT_PURPOSE_TAG
    tags = lookup(account.props, "tags")
    if tags is UNKNOWN:
        return None
    if not isinstance(tags, dict):
        return False
    # Azure tag names are case-insensitive, and the value is matched so too: `Purpose:
    # Audit-Trail` marks the audit account as surely as `purpose: audit-trail`.
    found = [v for k, v in tags.items() if isinstance(k, str) and k.lower() == key.lower()]
    if any(isinstance(v, str) and v.lower() == value.lower() for v in found):
        return True
    return None if any(v is UNKNOWN for v in found) else False


def _account(account: ResourceRecord, ctx: RuleContext) -> list[Finding]:
    props = account.props
    out: list[Finding] = []
    enabled = lookup(props, "immutableStorageWithVersioning.enabled")
    state = lookup(props, f"{POLICY}.state")
    days = lookup(props, f"{POLICY}.immutabilityPeriodSinceCreationInDays")
    if UNKNOWN in (enabled, state, days):
        out.append(unknown("immutableStorageWithVersioning"))
    elif enabled is not True:
        shown = "is not set" if enabled is MISSING else f"= {enabled!r}"
        out.append(
            violation(
                f"immutableStorageWithVersioning.enabled {shown}: audit records must be "
                "version-level immutable (WORM), enabled when the account is created"
            )
        )
    elif state is MISSING or days is MISSING or str(state) == "Disabled":
        out.append(
            violation(
                f"{POLICY} has no time-based policy in force (state "
                f"{'not set' if state is MISSING else state}, "
                f"{'no days' if days is MISSING else f'{as_number(days)} days'}): versions "
                "would be protected by nothing; set state and immutabilityPeriodSinceCreationInDays"
            )
        )
    elif ctx.environment in RECORD_KEEPING_ENVIRONMENTS:
        number = as_number(days) or 0
        if str(state) != "Locked":
            out.append(
                violation(
                    f"{POLICY}.state = {state!r} in {ctx.environment}: an unlocked policy can be "
                    "shortened or removed; MiFID II records must be kept where nobody can alter "
                    "them; allowed: Locked (after the creating deploy, config/audit.py)"
                )
            )
        if number < MIFID_RECORD_KEEPING_DAYS:
            out.append(
                violation(
                    f"{POLICY}.immutabilityPeriodSinceCreationInDays = {number} in "
                    f"{ctx.environment}: MiFID II keeps records at least five years; allowed: "
                    f">= {MIFID_RECORD_KEEPING_DAYS}"
                )
            )
    hns = lookup(props, "isHnsEnabled")
    if hns is UNKNOWN:
        out.append(unknown("isHnsEnabled"))
    elif hns is True:
        out.append(
            violation(
                "isHnsEnabled = true: version-level immutability is not supported on accounts "
                "with a hierarchical namespace; allowed: false"
            )
        )
    shared = lookup(props, "allowSharedKeyAccess")
    if shared is UNKNOWN:
        out.append(unknown("allowSharedKeyAccess"))
    elif shared is not False:
        shown = "is not set (keys allowed)" if shared is MISSING else f"= {shared!r}"
        out.append(
            violation(
                f"allowSharedKeyAccess {shown}: whoever holds an account key bypasses RBAC, "
                "and the workers alone may write audit records; allowed: false"
            )
        )
    return out


def _versioning(account: ResourceRecord, services: Sequence[ResourceRecord]) -> list[Finding]:
    mine = [s for s in services if _on(s, account)]
    if not mine:
        if any(_on(s, account) is None for s in services):
            return [unknown("BlobServiceProperties.accountName", account.urn)]
        return [
            violation(
                "no storage:BlobServiceProperties with isVersioningEnabled = true for the audit "
                "account: version-level immutability protects versions, so versioning must be on",
                account.urn,
            )
        ]
    out: list[Finding] = []
    for service in mine:
        value = lookup(service.props, "isVersioningEnabled")
        if value is UNKNOWN:
            out.append(unknown("isVersioningEnabled", service.urn))
        elif value is not True:
            out.append(
                violation(
                    "isVersioningEnabled is not true on the audit account's blob service: "
                    "version-level immutability needs versioning",
                    service.urn,
                )
            )
    return out


def _container(container: ResourceRecord) -> list[Finding]:
    value = lookup(container.props, "immutableStorageWithVersioning.enabled")
    if value is UNKNOWN:
        return [unknown("immutableStorageWithVersioning.enabled")]
    if value is not True:
        return [
            violation(
                f"{AUDIT_CONTAINER}: immutableStorageWithVersioning.enabled is not true; the "
                "records' container must be version-level immutable (set at its creation)"
            )
        ]
    return []


def _on(child: ResourceRecord, account: ResourceRecord) -> bool | None:
    """Whether a blob service or container belongs to `account`; None: cannot tell yet."""
    value = lookup(child.props, "accountName")
    name = azure_name(account)
    if value is UNKNOWN or name is UNKNOWN:
        # Preview: the engine records which resource the name came from.
        deps = child.property_dependencies.get("accountName") or child.dependencies
        if account.urn in deps:
            return True
        return False if deps else None
    return isinstance(value, str) and isinstance(name, str) and value.lower() == name.lower()


RULES = (
    StackRule(
        name="audit-store-immutable",
        description="The audit account (tag purpose=audit-trail or an audit-records container) "
        "exists in every stack and has version-level immutability with a time-based policy, "
        "Locked with at least 1825 days in prod, no container-level policy overriding it, "
        "versioning on, no hierarchical namespace and no shared keys.",
        resource_types=(ACCOUNT, BLOB_SERVICE, CONTAINER, CONTAINER_POLICY),
        control="MCSB LT-6 / SEC 17a-4(f) / MiFID II Art. 72(1) 2017/565",
        check=audit_store,
    ),
)
