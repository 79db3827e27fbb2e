"""Alembic environment for the payments service (shared logic in platform_common.migrations)."""

from payments_service.models import Base
from payments_service.settings import get_settings
from platform_common.migrations import run_alembic

run_alembic(Base.metadata, get_settings)
