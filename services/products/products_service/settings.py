"""Products settings, cached once per process and injected with Depends."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from platform_common.settings import ServiceSettings


class ProductsSettings(ServiceSettings):
    """Settings read by the products service."""

    products_cache_max_age_seconds: int = Field(
        300,
        ge=0,
        le=86400,
        description="Cache-Control max-age on instrument lookups (gateway cache).",
    )


@lru_cache
def get_settings() -> ProductsSettings:
    return ProductsSettings()
