"""erasure: the record of each erasure products-api applied to its outbox

products-api holds nobody's personal data but the actor ids in its unsent and delivered
audit records (an admin who edited an instrument); an erasure rewrites or deletes those.

Revision ID: 0006_erasure
Revises: 0005_audit
Create Date: 2026-12-01 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_erasure"
down_revision: str | None = "0005_audit"
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


def downgrade() -> None:
    op.drop_table("erasures")
