"""The audit store rule over plain records: how it finds the audit account, what it asks."""

from __future__ import annotations

from policies.core import RuleContext
from policies.rules import audit
from tests.policies.builders import record
from tests.policies.fixtures import AUDIT_ACCOUNT, AUDIT_BLOB

PROD = RuleContext("prod")


def _account(**changes: object) -> dict[str, object]:
    return {**AUDIT_ACCOUNT, **changes}


def test_the_purpose_tag_is_matched_whatever_its_case() -> None:
    account = record(
        audit.ACCOUNT,
        "audit-st",
        _account(tags={"Purpose": "Audit-Trail"}, allowSharedKeyAccess=True),
    )
    blob = record(audit.BLOB_SERVICE, "audit-st-blob", AUDIT_BLOB)
    [finding] = audit.audit_store([account, blob], PROD)
    assert finding.urn == account.urn
    assert "allowSharedKeyAccess = True" in finding.message


def test_a_tag_with_another_value_marks_no_audit_account() -> None:
    account = record(
        audit.ACCOUNT, "data-st", _account(tags={"PURPOSE": "etl"}, allowSharedKeyAccess=True)
    )
    assert [f for f in audit.audit_store([account], PROD) if f.urn == account.urn] == []
