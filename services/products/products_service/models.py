"""Instrument reference data table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, String
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
