"""随手拍 citizen reports: a public report's tracking code, the case it opened or follows, the reporter's optional
phone and nickname (personal: masked everywhere public), the reward (奖励) and the public-screen flag; the photos'
perceptual hashes (a photo sent again is caught); the client's address as a keyed hash (the rate limit).

A report either opened its case (filed_case_id = case_id) or follows one (filed_case_id NULL: a reporter who
followed a suggested case instead of filing a new one; or filed_case_id <> case_id: its case was marked a
duplicate of case_id and its reporters moved there). The view case_followers lists the latter two.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("code", sa.Text(), nullable=False, unique=True),  # the tracking code (10 characters, base32)
        sa.Column("case_id", sa.BigInteger(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filed_case_id", sa.BigInteger(), sa.ForeignKey("cases.id", ondelete="CASCADE")),
        sa.Column("note", sa.Text()),  # a follower's words (a filed report's are the case's description)
        sa.Column("phone", sa.Text()),
        sa.Column("nickname", sa.Text()),
        sa.Column("reward_amount", sa.Numeric(10, 2)),
        sa.Column("reward_paid", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("reward_paid_at", sa.DateTime(timezone=True)),
        sa.Column("public_screen", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("ip_hash", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True)),  # when its case was marked a duplicate of case_id
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("code ~ '^[A-Z2-7]{10}$'", name="report_code_form"),
        sa.CheckConstraint("reward_amount IS NULL OR reward_amount >= 0", name="report_reward_positive"),
        sa.CheckConstraint("NOT reward_paid OR reward_amount > 0", name="report_paid_has_amount"),
    )
    op.create_index("ix_reports_case", "reports", ["case_id"])
    op.create_index("ix_reports_filed_case", "reports", ["filed_case_id"])
    op.create_index("ix_reports_ip", "reports", ["ip_hash", "created_at"])
    op.create_table(
        "report_photos",
        sa.Column("report_id", sa.BigInteger(), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),  # the clean copy's (re-encoded, no EXIF/GPS)
        sa.Column("phash", sa.BigInteger(), nullable=False),  # 64-bit pHash as a signed integer
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "seq"),
    )
    op.create_index("ix_report_photos_created", "report_photos", ["created_at"])
    op.execute("CREATE VIEW case_followers AS SELECT case_id, id AS report_id, code, filed_case_id AS merged_from, "
               "created_at, merged_at FROM reports WHERE filed_case_id IS DISTINCT FROM case_id")
    op.execute("CREATE TRIGGER audit_reports AFTER INSERT OR UPDATE OR DELETE ON reports "
               "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_reports ON reports")
    op.execute("DROP VIEW IF EXISTS case_followers")
    op.drop_table("report_photos")
    op.drop_table("reports")
