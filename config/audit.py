"""The audit trail's store: WORM retention of audit records and how long personal data lives."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from config.base import _Model
from config.data import StorageRedundancy
from config.images import SERVICE_NAMES, ServiceName

# A time-based retention policy keeps blobs 1 to 146,000 days (400 years).
# https://learn.microsoft.com/azure/storage/blobs/immutable-time-based-retention-policy-overview#retention-interval-for-a-time-based-policy
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 146_000
# MiFID II record keeping: Commission Delegated Regulation (EU) 2017/565 Art. 72(1) and
# MiFIR (Regulation (EU) 600/2014) Art. 25(1) keep records of services and transactions for
# at least five years (up to seven where the competent authority asks).
# https://eur-lex.europa.eu/eli/reg_del/2017/565/oj  https://eur-lex.europa.eu/eli/reg/2014/600/oj
MIFID_RECORD_KEEPING_DAYS = 5 * 365
MIFID_EXTENDED_RECORD_KEEPING_DAYS = 7 * 365
# Services whose personal data sits in records the law requires to keep (orders, settlements):
# pseudonymising them earlier would leave a kept record that no longer says whose it was.
RECORD_KEEPING_SERVICES: tuple[ServiceName, ...] = ("orders", "payments")

# The services' own bound on PERSONAL_DATA_RETENTION_DAYS (services/*/settings.py): a value
# they refuse would stop them starting.
MAX_PERSONAL_DATA_DAYS = 3650
PersonalDataDays = Annotated[int, Field(ge=1, le=MAX_PERSONAL_DATA_DAYS)]


class AuditSettings(_Model):
    """The immutable audit store (infra/audit) and the personal-data retention of each service.

    Records are kept by an account-level default time-based policy on version-level
    immutability (WORM): every blob version written is protected for `retention_days` from
    its creation. https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies
    """

    retention_days: Annotated[int, Field(ge=MIN_RETENTION_DAYS, le=MAX_RETENTION_DAYS)]
    # Locked: the retention can only be extended, never shortened, and the policy never
    # removed; required for SEC 17a-4(f)-style compliance and MiFID II in prod. Unlocked:
    # immutable too, but the interval can still be changed (dev, qa, staging).
    # https://learn.microsoft.com/azure/storage/blobs/immutable-policy-configure-version-scope
    policy_locked: bool
    # Azure creates an account policy only Disabled or Unlocked and locks it in a later
    # update (AccountImmutabilityPolicyProperties.state). The `pulumi up` that creates a
    # locked stack's audit account sets this, and the next one, without it, locks the policy
    # (docs/runbook.md).
    # https://learn.microsoft.com/dotnet/api/azure.resourcemanager.storage.models.accountimmutabilitypolicy.state
    create_unlocked: bool = False
    # Standard_<redundancy> of the audit account; version-level WORM works on every one.
    storage_redundancy: StorageRedundancy = "LRS"
    # Appends to append blobs under the policy; the records are block blobs, so off. Only
    # changeable while the policy is Disabled or Unlocked.
    allow_protected_append_writes: bool = False
    # PERSONAL_DATA_RETENTION_DAYS of each service: users (notifications, published outbox
    # rows), orders and payments (user ids on terminal records, then pseudonymised),
    # products (published outbox rows).
    personal_data_retention_days: dict[ServiceName, PersonalDataDays]

    @model_validator(mode="after")
    def _every_service(self) -> Self:
        missing = [s for s in SERVICE_NAMES if s not in self.personal_data_retention_days]
        if missing:
            raise ValueError(
                f"audit.personalDataRetentionDays has no entry for {', '.join(missing)}: every "
                "service reads PERSONAL_DATA_RETENTION_DAYS; allowed: days (1-"
                f"{MAX_PERSONAL_DATA_DAYS}) for each of {', '.join(SERVICE_NAMES)}"
            )
        if self.create_unlocked and not self.policy_locked:
            raise ValueError(
                "audit.createUnlocked = true with audit.policyLocked = false: the policy is "
                "created Unlocked anyway and nothing locks it later; allowed: createUnlocked "
                "= false, or policyLocked = true"
            )
        return self

    @property
    def policy_state(self) -> str:
        """What the account's policy says now: Locked, or Unlocked (also while creating)."""
        return "Locked" if self.policy_locked and not self.create_unlocked else "Unlocked"


def audit_rejections(audit: AuditSettings, environment: str) -> list[str]:
    """What prod's record keeping forbids; the other environments keep days, unlocked."""
    if environment != "prod":
        return []
    out: list[str] = []
    if not audit.policy_locked:
        out.append(
            "audit.policyLocked = false in prod: an unlocked policy can be shortened or "
            "removed, so the records are not kept where nobody can alter them (MiFID II, "
            "SEC 17a-4(f)); allowed: true"
        )
    if audit.retention_days < MIFID_RECORD_KEEPING_DAYS:
        out.append(
            f"audit.retentionDays = {audit.retention_days} in prod: MiFID II keeps records "
            "at least five years (Delegated Regulation (EU) 2017/565 Art. 72(1), MiFIR Art. "
            f"25(1)); allowed: {MIFID_RECORD_KEEPING_DAYS}-{MAX_RETENTION_DAYS} (seven years, "
            f"{MIFID_EXTENDED_RECORD_KEEPING_DAYS}, where the authority asks)"
        )
    # As long as the audit records, up to the longest the services accept.
    required = min(audit.retention_days, MAX_PERSONAL_DATA_DAYS)
    for service in RECORD_KEEPING_SERVICES:
        days = audit.personal_data_retention_days.get(service)
        if days is not None and days < required:
            out.append(
                f"audit.personalDataRetentionDays.{service} = {days} in prod is shorter than "
                f"the record-keeping period (audit.retentionDays = {audit.retention_days}): "
                f"{service} records kept for the regulator would lose whose they were first; "
                f"allowed: {required}-{MAX_PERSONAL_DATA_DAYS}"
            )
    return out
