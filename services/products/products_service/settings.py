"""Products settings, cached once per process and injected with Depends."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field

from platform_common.settings import MessagingSettings


class ProductsSettings(MessagingSettings):
    """Settings read by the products service."""

    products_cache_max_age_seconds: int = Field(
        300,
        ge=0,
        le=86400,
        description="Cache-Control max-age on instrument lookups (gateway cache).",
    )
    workers_caller_id: str = Field(
        "svc-workers",
        min_length=1,
        max_length=128,
        description="Caller id of the Functions workers; the only caller that may batch-load.",
    )
    personal_data_retention_days: int = Field(
        90,
        ge=1,
        le=3650,
        description=(
            "Days published outbox rows (audit records name their actor) are kept; the "
            "workers' daily purge deletes older ones."
        ),
    )
    products_load_max_items: int = Field(
        1000,
        ge=1,
        le=2000,
        description=(
            "Most instruments in one batch load (413 above); at most 2000 so one batch's "
            "lookup stays under SQL Server's 2100 parameters."
        ),
    )
    products_load_tick_size: Decimal = Field(
        Decimal("0.0001"),
        gt=0,
        max_digits=18,
        decimal_places=8,
        description=(
            "Tick size given to an instrument first created by a batch load (FIRDS has none); "
            "an admin sets the real one and loads never change it."
        ),
    )


@lru_cache
def get_settings() -> ProductsSettings:
    return ProductsSettings()
