"""Alembic environment for the users service (shared logic in platform_common.migrations)."""

from platform_common.migrations import run_alembic
from users_service.models import Base
from users_service.settings import get_settings

run_alembic(Base.metadata, get_settings)
