"""The database's own identity and login throttle.

- `instance` (one row): a random id and a JWT signing key made when the database is initialised. Login tokens
  are signed with the key and carry the id as their audience, so a token of one database is worthless in
  another that shares the data folder or the cluster; each database keeps its uploaded files under
  `<data_dir>/uploads/<id>/`. The row is part of the database, so `gridsvc db dump/restore` carries it: a
  restored database is the same database (its users, tokens and uploads). Not audited (it holds a secret).
- `login_throttle`: failed logins per account and per client address (kept in PostgreSQL so that every worker
  process of `uvicorn --workers N` sees the same counts; gridsvc/login_throttle.py).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance",
        sa.Column("singleton", sa.Boolean(), primary_key=True, server_default=sa.true()),
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("jwt_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("singleton", name="instance_one_row"),
        sa.CheckConstraint("length(jwt_key) >= 32", name="instance_key_length"),
    )
    op.execute(sa.text("INSERT INTO instance (jwt_key) VALUES (:k)").bindparams(k=secrets.token_urlsafe(48)))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.Text(), primary_key=True),  # account:<name> | address:<ip>
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True)),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
        sa.Column("refused", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("length(key) <= 400", name="login_throttle_key_length"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("instance")
