"""Audit layer: the immutable (WORM) store the workers write audit records to."""

from infra.audit.component import AuditTrail, AuditTrailArgs
from infra.audit.store import (
    AUDIT_CONTAINER,
    AUDIT_PURPOSE,
    PURPOSE_TAG,
    immutability,
    sku_name,
)

__all__ = [
    "AUDIT_CONTAINER",
    "AUDIT_PURPOSE",
    "PURPOSE_TAG",
    "AuditTrail",
    "AuditTrailArgs",
    "immutability",
    "sku_name",
]
