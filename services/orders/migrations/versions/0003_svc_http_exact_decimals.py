"""exact decimals: quantities and prices stored as canonical text on SQLite

SQLite kept NUMERIC columns as REAL, so 16+ significant digits changed on the way
back. Azure SQL already has DECIMAL(18,6)/DECIMAL(18,8), so only SQLite changes.

Revision ID: 0003_svc_http
Revises: 0002
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from platform_common.columns import ExactDecimal
from platform_common.types import PRICE, QUANTITY

revision: str = "0003_svc_http"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "orders": {
        "quantity": (QUANTITY, False),
        "limit_price": (PRICE, True),
        "filled_quantity": (QUANTITY, False),
        "average_fill_price": (PRICE, True),
    },
    "fills": {"quantity": (QUANTITY, False), "price": (PRICE, False)},
}


def _alter(to_exact: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for name, (shape, nullable) in columns.items():
                exact, numeric = ExactDecimal(*shape), sa.Numeric(*shape)
                batch_op.alter_column(
                    name,
                    type_=exact if to_exact else numeric,
                    existing_type=numeric if to_exact else exact,
                    existing_nullable=nullable,
                )


def upgrade() -> None:
    _alter(to_exact=True)


def downgrade() -> None:
    _alter(to_exact=False)
