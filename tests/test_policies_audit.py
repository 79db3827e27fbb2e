"""The audit store rule over plain records: how it finds the audit account, what it asks."""

from __future__ import annotations

from dataclasses import replace

from policies.core import ResourceRecord, RuleContext
from policies.rules import audit
from tests.policies.builders import UNKNOWN_STRING, record
from tests.policies.fixtures import AUDIT_ACCOUNT, AUDIT_BLOB, AUDIT_RECORDS

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


def _stack() -> list[ResourceRecord]:
    return [
        record(audit.ACCOUNT, "audit-st", AUDIT_ACCOUNT),
        record(audit.BLOB_SERVICE, "audit-st-blob", AUDIT_BLOB),
        record(audit.CONTAINER, "audit-st-records", AUDIT_RECORDS),
    ]


def test_the_audit_stack_passes() -> None:
    assert audit.audit_store(_stack(), PROD) == []


def test_a_container_policy_found_by_its_parent_is_a_violation() -> None:
    stack = _stack()
    policy = replace(
        record(
            audit.CONTAINER_POLICY,
            "audit-st-records-policy",
            {"accountName": UNKNOWN_STRING, "containerName": UNKNOWN_STRING},
        ),
        parent=stack[2].urn,
    )
    [finding] = audit.audit_store([*stack, policy], PROD)
    assert finding.urn == policy.urn
    assert "container-level immutability policy" in finding.message


def test_a_container_policy_found_by_its_container_dependency_in_preview() -> None:
    stack = _stack()
    policy = record(
        audit.CONTAINER_POLICY,
        "audit-st-records-policy",
        {"accountName": "elsewhere", "containerName": UNKNOWN_STRING},
        property_dependencies={"containerName": (stack[2].urn,)},
    )
    [finding] = audit.audit_store([*stack, policy], PROD)
    assert finding.urn == policy.urn and not finding.unknown


def test_a_stack_without_an_audit_account_is_a_violation_of_the_stack() -> None:
    other = record(audit.ACCOUNT, "etl-st", {"accountName": "stetl", "tags": {"layer": "etl"}})
    [finding] = audit.audit_store([other], RuleContext("dev"))
    assert finding.urn is None and not finding.unknown
    assert "no audit account" in finding.message
