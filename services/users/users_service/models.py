"""User accounts; roles are a comma-separated set so the table stays portable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common.columns import UtcDateTime
from platform_common.erasure import erasures_table
from platform_common.outbox import outbox_table


class Base(DeclarativeBase):
    """Users metadata (its own database, its own migrations)."""


class User(Base):
    __tablename__ = "users"
    # Uniqueness ignores case: a portable normalised column (SQL Server indexes no
    # expressions such as lower(email) without a computed column).
    __table_args__ = (Index("uq_users_email_key", "email_key", unique=True),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_key: Mapped[str] = mapped_column(String(254))
    """email lower-cased (users_service.schemas.email_key)."""
    roles: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    """Argon2id PHC string (users_service.passwords); None until an admin sets one."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Notification(Base):
    """Something a user is told about, recorded by the notifications worker.

    The id is the notification message's id, so a redelivered message records nothing new.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The record the notification is about (an order or settlement id)."""
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# Audit records (and, in users-api, UserErased events) leave through the outbox.
outbox = outbox_table(Base.metadata)
# One row per erased user: the sha256 of the original id, its pseudonym, when and by whom.
erasures = erasures_table(Base.metadata)
