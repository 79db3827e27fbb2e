"""erasure and retention: the erasures record and the retention pseudonyms' salt

Revision ID: 0004_erasure
Revises: 0003_svc_http
Create Date: 2026-12-01 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_erasure"
down_revision: str | None = "0003_svc_http"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("user_digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pseudonym"),
        sa.UniqueConstraint("user_digest"),
    )
    # The salt itself is made by the first purge (random, never in a migration's source).
    op.create_table(
        "pseudonym_salt",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("pseudonym_salt")
    op.drop_table("erasures")
