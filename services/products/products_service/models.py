"""Instrument reference data table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common.columns import ExactDecimal, UtcDateTime
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
