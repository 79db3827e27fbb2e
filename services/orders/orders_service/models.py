"""Orders, fills, idempotency records and the outbox, in one database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common.columns import ExactDecimal, UtcDateTime
from platform_common.erasure import erasures_table, salt_table
from platform_common.outbox import outbox_table
from platform_common.types import PRICE, QUANTITY


class Base(DeclarativeBase):
    """Orders metadata (its own database, its own migrations)."""


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    isin: Mapped[str] = mapped_column(String(12), index=True)
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(6))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(*QUANTITY))
    limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(*PRICE), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    filled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal(*QUANTITY))
    average_fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(*PRICE), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    # Optimistic concurrency: a concurrent change makes the second UPDATE match no row.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy types it Any


class Fill(Base):
    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("order_id", "venue_fill_id", name="uq_fills_order_venue_fill"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    venue_fill_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(*QUANTITY))
    price: Mapped[Decimal] = mapped_column(ExactDecimal(*PRICE))
    executed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TraderLock(Base):
    """One row per trader, updated first by every order creation for that trader.

    The UPDATE takes the row's write lock (SQL Server) or the database write lock (SQLite)
    until commit, so one trader's creates run one at a time and the open-order count they
    check cannot be stale.
    """

    __tablename__ = "trader_locks"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    creates: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """The first response to (caller, Idempotency-Key), replayed on retries."""

    __tablename__ = "idempotency_records"

    caller_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


outbox = outbox_table(Base.metadata)
# Erasures carried out here, and the salt of the retention purge's derived pseudonyms.
erasures = erasures_table(Base.metadata)
pseudonym_salt = salt_table(Base.metadata)
