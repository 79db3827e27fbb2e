"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:45:50.267109
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("full_name", sa.String(length=350), nullable=False),
        sa.Column("cfi_code", sa.String(length=6), nullable=False),
        sa.Column("issuer_lei", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("venue_mic", sa.String(length=4), nullable=False),
        sa.Column("tick_size", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("reference_price", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("isin"),
    )
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instruments_cfi_code"), ["cfi_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_full_name"), ["full_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_issuer_lei"), ["issuer_lei"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_venue_mic"), ["venue_mic"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instruments_venue_mic"))
        batch_op.drop_index(batch_op.f("ix_instruments_status"))
        batch_op.drop_index(batch_op.f("ix_instruments_issuer_lei"))
        batch_op.drop_index(batch_op.f("ix_instruments_full_name"))
        batch_op.drop_index(batch_op.f("ix_instruments_cfi_code"))

    op.drop_table("instruments")
