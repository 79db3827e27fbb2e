"""Orders settings, cached once per process and injected with Depends."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field

from platform_common.settings import RecordKeepingSettings


class OrdersSettings(RecordKeepingSettings):
    """Settings read by the orders service."""

    servicebus_orders_queue: str = Field(
        "orders-queue", description="Queue carrying order commands to the Functions worker."
    )
    products_api_base_url: str = Field(
        "http://127.0.0.1:8003",
        description="Base URL of the products API used to validate instruments.",
        json_schema_extra={"required_in_azure": True},
    )
    products_api_timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="Timeout for instrument lookups."
    )
    orders_max_notional_per_order: Decimal = Field(
        Decimal(1000000),
        gt=0,
        description="Risk limit: quantity x price per order, instrument currency.",
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
    orders_max_open_orders_per_user: int = Field(
        50,
        gt=0,
        le=100000,
        description="Risk limit: open (NEW/ACCEPTED/PARTIALLY_FILLED) orders per user.",
    )


@lru_cache
def get_settings() -> OrdersSettings:
    return OrdersSettings()
