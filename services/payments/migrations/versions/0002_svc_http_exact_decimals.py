"""exact decimals: amount is DECIMAL(36,14), quantity x price without rounding

DECIMAL(28,8) could neither hold the product of a schema-valid quantity (18,6) and
price (18,8) exactly nor, on SQLite (REAL), 16+ significant digits at all.

Revision ID: 0002_svc_http
Revises: 0001
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from platform_common.columns import ExactDecimal
from platform_common.types import AMOUNT, PRICE, QUANTITY

revision: str = "0002_svc_http"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_AMOUNT = (28, 8)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("settlements") as batch_op:
            for name, shape in (("quantity", QUANTITY), ("price", PRICE)):
                batch_op.alter_column(
                    name,
                    type_=ExactDecimal(*shape),
                    existing_type=sa.Numeric(*shape),
                    existing_nullable=False,
                )
            batch_op.alter_column(
                "amount",
                type_=ExactDecimal(*AMOUNT),
                existing_type=sa.Numeric(*OLD_AMOUNT),
                existing_nullable=False,
            )
        return
    op.alter_column(
        "settlements",
        "amount",
        type_=ExactDecimal(*AMOUNT),
        existing_type=sa.Numeric(*OLD_AMOUNT),
        existing_nullable=False,
    )


def downgrade() -> None:
    with op.batch_alter_table("settlements") as batch_op:
        batch_op.alter_column(
            "amount",
            type_=sa.Numeric(*OLD_AMOUNT),
            existing_type=ExactDecimal(*AMOUNT),
            existing_nullable=False,
        )
        if op.get_context().dialect.name == "sqlite":
            for name, shape in (("quantity", QUANTITY), ("price", PRICE)):
                batch_op.alter_column(
                    name,
                    type_=sa.Numeric(*shape),
                    existing_type=ExactDecimal(*shape),
                    existing_nullable=False,
                )
