"""instrument_enrichments: OpenFIGI and GLEIF data of an instrument (third-party sync)

Revision ID: 0003_h_w_sync
Revises: 0002_svc_http
Create Date: 2026-12-01 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from platform_common.columns import UtcDateTime

revision: str = "0003_h_w_sync"
down_revision: str | None = "0002_svc_http"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instrument_enrichments",
        sa.Column("isin", sa.String(12), sa.ForeignKey("instruments.isin"), primary_key=True),
        sa.Column("figi", sa.String(12), nullable=True),
        sa.Column("composite_figi", sa.String(12), nullable=True),
        sa.Column("share_class_figi", sa.String(12), nullable=True),
        sa.Column("ticker", sa.String(64), nullable=True),
        sa.Column("exch_code", sa.String(16), nullable=True),
        sa.Column("security_type", sa.String(64), nullable=True),
        sa.Column("market_sector", sa.String(32), nullable=True),
        sa.Column("issuer_legal_name", sa.String(500), nullable=True),
        sa.Column("issuer_country", sa.String(2), nullable=True),
        sa.Column("issuer_lei_status", sa.String(32), nullable=True),
        sa.Column("issuer_entity_status", sa.String(32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "ix_instrument_enrichments_figi", "instrument_enrichments", ["figi"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_instrument_enrichments_figi", table_name="instrument_enrichments")
    op.drop_table("instrument_enrichments")
