"""Payments settings, cached once per process and injected with Depends."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from platform_common.settings import RecordKeepingSettings


class PaymentsSettings(RecordKeepingSettings):
    """Settings read by the payments service (database, identity, outbox, orders-api)."""

    orders_api_base_url: str = Field(
        "http://127.0.0.1:8002",
        description="Base URL of the orders API that settlements are verified against.",
        json_schema_extra={"required_in_azure": True},
    )
    orders_api_timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="Timeout of one orders-api request."
    )
    workers_caller_id: str = Field(
        "svc-workers",
        min_length=1,
        max_length=128,
        description=(
            "Caller id of the Functions workers; the only caller of the erasure and "
            "retention routes."
        ),
    )
    orders_api_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Attempts per orders-api lookup (connection errors and 5xx are retried).",
    )


@lru_cache
def get_settings() -> PaymentsSettings:
    return PaymentsSettings()
