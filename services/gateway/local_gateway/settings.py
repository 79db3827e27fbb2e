"""Gateway settings (GATEWAY_* environment variables), with API Management's own limits."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SERVICES = ("users", "orders", "products", "payments")


def _comma_list(raw: object) -> object:
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]


class GatewaySettings(BaseSettings):
    """Where the services are, which keys are valid, and the limits the gateway applies."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", case_sensitive=False, extra="ignore", frozen=True
    )

    users_api_base_url: str = Field("http://127.0.0.1:8001", description="users-api.")
    orders_api_base_url: str = Field("http://127.0.0.1:8002", description="orders-api.")
    products_api_base_url: str = Field("http://127.0.0.1:8003", description="products-api.")
    payments_api_base_url: str = Field("http://127.0.0.1:8004", description="payments-api.")
    subscription_keys: CommaList = Field(
        (),
        description="Comma-separated valid Ocp-Apim-Subscription-Key values (local use only).",
    )
    subscription_keys_file: Path | None = Field(
        None,
        description=(
            'JSON file of named keys, {"<subscription name>": "<key>", ...}; added to '
            "GATEWAY_SUBSCRIPTION_KEYS."
        ),
    )
    verdict_cache_ttl_seconds: float = Field(
        30,
        ge=0,
        le=3600,
        description=(
            "How long an authenticate verdict is reused; a deactivated or re-passworded user "
            "is refused at most this long after the change (0 = ask every time)."
        ),
    )
    # rate-limit-by-key: renewal-period at most 300 seconds.
    # https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy#attributes
    rate_limit_calls: int = Field(
        100, ge=1, le=1_000_000, description="Calls per subscription key per window."
    )
    rate_limit_window_seconds: int = Field(
        60, ge=1, le=300, description="Fixed window of the rate limit, in seconds."
    )
    backend_timeout_seconds: float = Field(
        30, gt=0, le=240, description="Per backend call (Container Apps ingress stops at 240)."
    )
    cors_origins: CommaList = Field(
        (), description="Comma-separated browser origins allowed (the SPA's), none by default."
    )

    def backends(self) -> dict[str, str]:
        """API path prefix (the service name) -> base URL, as API Management's APIs."""
        return {name: str(getattr(self, f"{name}_api_base_url")).rstrip("/") for name in SERVICES}

    def keys(self) -> frozenset[str]:
        """Every valid subscription key, from the variable and the file."""
        keys = set(self.subscription_keys)
        if self.subscription_keys_file is not None:
            keys.update(_read_key_file(self.subscription_keys_file).values())
        return frozenset(keys)

    @model_validator(mode="after")
    def _some_key(self) -> Self:
        if not self.keys():
            raise ValueError(
                "no subscription key: set GATEWAY_SUBSCRIPTION_KEYS (comma-separated) or "
                "GATEWAY_SUBSCRIPTION_KEYS_FILE (a JSON object of name -> key)"
            )
        return self


def _read_key_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"GATEWAY_SUBSCRIPTION_KEYS_FILE {path}: cannot read JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
    ):
        raise ValueError(
            f"GATEWAY_SUBSCRIPTION_KEYS_FILE {path}: must be a JSON object of name -> key "
            '(non-empty strings), e.g. {"local-dev": "<key>"}'
        )
    return data


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
