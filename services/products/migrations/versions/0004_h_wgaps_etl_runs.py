"""etl_runs and etl_run_rejects: the ETL's run records, kept by the owner of the instruments

Revision ID: 0004_h_wgaps
Revises: 0003_h_w_sync
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from platform_common.columns import UtcDateTime

revision: str = "0004_h_wgaps"
down_revision: str | None = "0003_h_w_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "etl_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_etl_runs_file_name", "etl_runs", ["file_name"])
    op.create_index("ix_etl_runs_file_sha256", "etl_runs", ["file_sha256"])
    op.create_index("ix_etl_runs_outcome", "etl_runs", ["outcome"])
    op.create_index("ix_etl_runs_started_at", "etl_runs", ["started_at"])
    op.create_table(
        "etl_run_rejects",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("etl_runs.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("isin", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("etl_run_rejects")
    op.drop_index("ix_etl_runs_started_at", table_name="etl_runs")
    op.drop_index("ix_etl_runs_outcome", table_name="etl_runs")
    op.drop_index("ix_etl_runs_file_sha256", table_name="etl_runs")
    op.drop_index("ix_etl_runs_file_name", table_name="etl_runs")
    op.drop_table("etl_runs")
