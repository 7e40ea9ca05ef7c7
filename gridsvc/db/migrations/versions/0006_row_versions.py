"""Versions on parties and units (zones have theirs): a trigger bumps it on every real change.

An update that changes nothing keeps the version, so an unchanged re-import does not invalidate clients' ETags.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("parties", "units")
BUMP = """
CREATE FUNCTION bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version;
  IF NEW IS DISTINCT FROM OLD THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute(BUMP)
    for table in TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        op.create_check_constraint(f"{table}_version_positive", table, "version >= 1")
        op.execute(f"CREATE TRIGGER {table}_version BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION bump_row_version()")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
        op.drop_column(table, "version")
    op.execute("DROP FUNCTION bump_row_version()")
