"""Instrument reference data table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common.columns import ExactDecimal, UtcDateTime
from platform_common.erasure import erasures_table
from platform_common.outbox import outbox_table
from platform_common.types import PRICE


class Base(DeclarativeBase):
    """Products metadata (its own database, its own migrations)."""


class Instrument(Base):
    __tablename__ = "instruments"

    isin: Mapped[str] = mapped_column(String(12), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(350), index=True)
    cfi_code: Mapped[str] = mapped_column(String(6), index=True)
    issuer_lei: Mapped[str] = mapped_column(String(20), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    venue_mic: Mapped[str] = mapped_column(String(4), index=True)
    tick_size: Mapped[Decimal] = mapped_column(ExactDecimal(*PRICE))
    reference_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(*PRICE), nullable=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InstrumentEnrichment(Base):
    """Third-party identifiers of an instrument (OpenFIGI) and its issuer (GLEIF), one row per ISIN.

    Kept apart from `instruments` so the FIRDS load and the third-party sync never
    overwrite each other's fields.
    """

    __tablename__ = "instrument_enrichments"

    isin: Mapped[str] = mapped_column(String(12), ForeignKey("instruments.isin"), primary_key=True)
    figi: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    composite_figi: Mapped[str | None] = mapped_column(String(12), nullable=True)
    share_class_figi: Mapped[str | None] = mapped_column(String(12), nullable=True)
    ticker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    exch_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    security_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    market_sector: Mapped[str | None] = mapped_column(String(32), nullable=True)
    issuer_legal_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    issuer_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    issuer_lei_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    issuer_entity_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EtlRun(Base):
    """One ETL run over one FIRDS file, as the workers report it: what operators audit.

    The id is the workers' (a UUID per run), so a retried report cannot record a run twice.
    """

    __tablename__ = "etl_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200), index=True)
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(10), index=True)
    records: Mapped[int] = mapped_column(Integer)
    valid: Mapped[int] = mapped_column(Integer)
    written: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EtlRunReject(Base):
    """A record a run refused, with where it was in the file and why (the first 1000 kept)."""

    __tablename__ = "etl_run_rejects"

    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("etl_runs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    isin: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(1000))


# Audit records (and, in users-api, UserErased events) leave through the outbox.
outbox = outbox_table(Base.metadata)
# One row per erasure the workers applied here (its audit records' actor ids scrubbed).
erasures = erasures_table(Base.metadata)
