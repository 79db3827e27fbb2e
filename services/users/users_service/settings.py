"""Users settings, cached once per process and injected with Depends."""

from __future__ import annotations

from functools import lru_cache

from platform_common.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    """Settings read by the users service (database, identity, telemetry)."""


@lru_cache
def get_settings() -> UsersSettings:
    return UsersSettings()
