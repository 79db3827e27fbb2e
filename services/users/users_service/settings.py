"""Users settings, cached once per process and injected with Depends."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from platform_common.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    """Settings read by the users service (database, identity, telemetry)."""

    workers_caller_id: str = Field(
        "svc-workers",
        min_length=1,
        max_length=128,
        description=(
            "Caller id of the Functions workers; the only caller that may record notifications."
        ),
    )


@lru_cache
def get_settings() -> UsersSettings:
    return UsersSettings()
