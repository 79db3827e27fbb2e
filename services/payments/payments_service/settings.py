"""Payments settings, cached once per process and injected with Depends."""

from __future__ import annotations

from functools import lru_cache

from platform_common.settings import MessagingSettings


class PaymentsSettings(MessagingSettings):
    """Settings read by the payments service (database, identity, outbox)."""


@lru_cache
def get_settings() -> PaymentsSettings:
    return PaymentsSettings()
