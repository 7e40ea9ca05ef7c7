"""Uploaded files (随手拍 photos, ledgers): checksum, type found from the content, size, who and when.

The files live under <data_dir>/uploads named by their SHA-256 (gridsvc/uploads.py); this table is their index.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("sha256", sa.Text(), nullable=False, unique=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text()),
        sa.Column("uploaded_by", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="uploads_sha256_hex"),
        sa.CheckConstraint("kind IN ('photo', 'ledger')", name="uploads_kind_known"),
        sa.CheckConstraint("size_bytes > 0", name="uploads_size_positive"),
        sa.CheckConstraint("char_length(filename) <= 255", name="uploads_filename_short"),
    )
    op.execute("CREATE TRIGGER audit_uploads AFTER INSERT OR UPDATE OR DELETE ON uploads "
               "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_uploads ON uploads")
    op.drop_table("uploads")
