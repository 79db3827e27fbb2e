"""exact decimals: reference_price keeps 8 decimals; canonical text on SQLite

The schema accepted 8 decimals for reference_price but the column held 6, so the
value was silently rounded. SQLite kept NUMERIC as REAL (16+ digits changed).

Revision ID: 0002_svc_http
Revises: 0001
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from platform_common.columns import ExactDecimal
from platform_common.types import PRICE

revision: str = "0002_svc_http"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("instruments") as batch_op:
            batch_op.alter_column(
                "tick_size",
                type_=ExactDecimal(*PRICE),
                existing_type=sa.Numeric(*PRICE),
                existing_nullable=False,
            )
            batch_op.alter_column(
                "reference_price",
                type_=ExactDecimal(*PRICE),
                existing_type=sa.Numeric(18, 6),
                existing_nullable=True,
            )
        return
    op.alter_column(
        "instruments",
        "reference_price",
        type_=ExactDecimal(*PRICE),
        existing_type=sa.Numeric(18, 6),
        existing_nullable=True,
    )


def downgrade() -> None:
    # Narrowing back to 6 decimals rounds stored prices; that is what the old schema did.
    with op.batch_alter_table("instruments") as batch_op:
        batch_op.alter_column(
            "reference_price",
            type_=sa.Numeric(18, 6),
            existing_type=ExactDecimal(*PRICE),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "tick_size",
            type_=sa.Numeric(*PRICE),
            existing_type=ExactDecimal(*PRICE),
            existing_nullable=False,
        )
