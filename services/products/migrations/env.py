"""Alembic environment for the products service (shared logic in platform_common.migrations)."""

from platform_common.migrations import run_alembic
from products_service.models import Base
from products_service.settings import get_settings

run_alembic(Base.metadata, get_settings)
