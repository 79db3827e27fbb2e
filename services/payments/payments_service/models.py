"""Settlement instructions and the outbox."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common.columns import ExactDecimal, UtcDateTime
from platform_common.erasure import erasures_table, salt_table
from platform_common.outbox import outbox_table
from platform_common.types import AMOUNT, PRICE, QUANTITY


class Base(DeclarativeBase):
    """Payments metadata (its own database, its own migrations)."""


class Settlement(Base):
    __tablename__ = "settlements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # One instruction per order: the unique index makes creation idempotent under races too.
    order_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    isin: Mapped[str] = mapped_column(String(12))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(*QUANTITY))
    price: Mapped[Decimal] = mapped_column(ExactDecimal(*PRICE))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(*AMOUNT))
    status: Mapped[str] = mapped_column(String(10), index=True)
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy types it Any


outbox = outbox_table(Base.metadata)
# Erasures carried out here, and the salt of the retention purge's derived pseudonyms.
erasures = erasures_table(Base.metadata)
pseudonym_salt = salt_table(Base.metadata)
