"""email key: e-mail uniqueness ignores case

Revision ID: 0002_h_svc_authz
Revises: 0001
Create Date: 2026-12-01 09:20:00
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0002_h_svc_authz"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("users", sa.column("id", sa.String), sa.column("email", sa.String))


def _backfill_online() -> None:
    """Lower-case in Python, as the service does, and stop on addresses that now clash."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email)).all()
    by_key: dict[str, list[str]] = defaultdict(list)
    for user_id, email in rows:
        by_key[email.lower()].append(user_id)
    clashes = {key: ids for key, ids in by_key.items() if len(ids) > 1}
    if clashes:
        listed = "; ".join(
            f"{key}: {', '.join(sorted(ids))}" for key, ids in sorted(clashes.items())
        )
        raise RuntimeError(
            "Users share an e-mail address ignoring case; change all but one before "
            f"upgrading: {listed}"
        )
    key = sa.table("users", sa.column("id", sa.String), sa.column("email_key", sa.String))
    for user_id, email in rows:
        bind.execute(sa.update(key).where(key.c.id == user_id).values(email_key=email.lower()))


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=254), nullable=True))
    if context.is_offline_mode():
        # A reviewed script has no rows to read; the server's LOWER folds case, and the
        # unique index below refuses to build if two addresses then clash.
        op.execute("UPDATE users SET email_key = LOWER(email)")
    else:
        _backfill_online()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email_key", existing_type=sa.String(length=254), nullable=False)
        batch_op.create_index("uq_users_email_key", ["email_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("uq_users_email_key")
        batch_op.drop_column("email_key")
