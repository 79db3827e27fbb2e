"""Alembic environment for the orders service (shared logic in platform_common.migrations)."""

from orders_service.models import Base
from orders_service.settings import get_settings
from platform_common.migrations import run_alembic

run_alembic(Base.metadata, get_settings)
