"""The 12345 hotline: one row per work order (工单) imported, and one case per work order at most.

hotline_orders keeps each work order as last imported (its number, call time, content, type, address, caller),
where it was placed and how (method, confidence, what matched), and its case; a work order that could not be
placed has no case and says why (staff place it: `gridsvc hotline place`). The unique index on
cases.external_ids->>'12345' makes "re-importing updates, never duplicates" a constraint, not a hope. Each import
is also a row of `imports` (source_file, sha256, counts, notes), so `gridsvc imports list/show` lists it.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_hotline_number", "cases", [sa.text("(external_ids ->> '12345')")], unique=True,
                    postgresql_where=sa.text("external_ids ? '12345'"))
    op.create_table(
        "hotline_orders",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),  # the audit log's record id
        sa.Column("number", sa.Text(), nullable=False, unique=True),  # 工单编号
        sa.Column("case_id", sa.BigInteger(), sa.ForeignKey("cases.id", ondelete="SET NULL"), unique=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),  # 来电时间
        sa.Column("content", sa.Text(), nullable=False),  # 诉求内容
        sa.Column("type_text", sa.Text()),  # 诉求类型 as the hotline wrote it
        sa.Column("category", sa.Text(), nullable=False),  # its categories.toml code (hotline.toml)
        sa.Column("address", sa.Text()),
        sa.Column("area", sa.Text()),  # 所属区域
        sa.Column("reporter_name", sa.Text()),  # 来电人: personal data
        sa.Column("reporter_phone", sa.Text()),  # 来电号码: personal data
        sa.Column("given_point", postgresql.JSONB()),  # {lng, lat, crs} as in the file
        sa.Column("placement", postgresql.JSONB()),  # {method, confidence, matched, lng, lat} (WGS84)
        sa.Column("unplaced_reason", sa.Text()),
        sa.Column("row_sha", sa.Text(), nullable=False),  # of the row's values: unchanged rows are skipped
        sa.Column("import_id", sa.Integer()),  # the last import that changed it
        sa.Column("row_number", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_hotline_orders_unplaced", "hotline_orders", ["received_at"],
                    postgresql_where=sa.text("case_id IS NULL"))
    op.execute("CREATE TRIGGER audit_hotline_orders AFTER INSERT OR UPDATE OR DELETE ON hotline_orders "
               "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_hotline_orders ON hotline_orders")
    op.drop_table("hotline_orders")
    op.drop_index("ix_cases_hotline_number", "cases")
