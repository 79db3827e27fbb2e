"""trader locks: serialize one trader's order creations so the open-order limit holds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trader_locks",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("creates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("trader_locks")
