"""Ratings earned from records: every period's 红/黄/黑 board per unit, the credit ledger (信用积分), duty board
(责任牌) status and 责任书 pledges.

- unit_ratings: one row per unit and period (week 2026-W47, month 2026-11) with the computed board, the metrics it
  came from and the conditions that fired; a hand override (board, reason, who, when) sits beside the computed
  board, so a recompute replaces the computed values and keeps the override. Versioned (bump_row_version).
- credit_entries: the ledger. The balance is the sum (view unit_credit): there is no balance column to drift, so
  units.credit_points goes (the readers take unit_credit.balance). Entries generated from records carry the
  record they came from (source_key, inspection_id, case_id) and are unique per unit, reason and source.
- duty_boards: the history of a unit's board (hung, missing, damaged, replaced); the latest row is its status.
- pledges: 责任书 signed per unit (date, signatory, the scan's sha256 from /uploads).

units.rating and units.rated_at stay as the unit's current board (what the checklists, exports and the public
page read), written only by the ratings code (gridsvc/ops/ratings/records.py) in the transaction that writes the
period's rating. Like cases, these tables keep unit ids as values, without foreign keys.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BOARDS = "('red', 'yellow', 'black', 'none')"
BOARD_STATES = "('hung', 'missing', 'damaged', 'replaced')"
AUDITED = ("unit_ratings", "credit_entries", "duty_boards", "pledges")
CREDIT_VIEW = """
CREATE VIEW unit_credit AS
SELECT unit_id, sum(amount)::integer AS balance, count(*)::integer AS entries, max(at) AS last_at
FROM credit_entries GROUP BY unit_id
"""


# The instant a case first missed a deadline, as far as it is known at `at` (NULL: it has not): its first 督办单's
# missed deadline, the running stage's deadline when it is open and past it, or the moment the tick marked it;
# a case that was overdue once and left no other trace counts from its close (or last change). One home for
# "overdue" in ratings, credit and bulletins.
CASE_MISSED_AT = """
CREATE FUNCTION case_missed_at(c cases, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(least((SELECT min(x.due_at) FROM escalations x WHERE x.case_id = c.id),
                        CASE WHEN c.closed_at IS NULL AND c.due_at < at THEN c.due_at END,
                        c.overdue_marked_at),
                  CASE WHEN c.ever_overdue THEN coalesce(c.closed_at, c.updated_at) END)
$$"""


def upgrade() -> None:
    op.create_table(
        "unit_ratings",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),  # 2026-11, 2026-W47
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("board", sa.Text(), nullable=False),  # computed: red / yellow / black / none
        sa.Column("because", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("metrics", postgresql.JSONB(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("override_board", sa.Text()),
        sa.Column("override_reason", sa.Text()),
        sa.Column("override_by", sa.Text()),
        sa.Column("override_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.UniqueConstraint("unit_id", "period_kind", "period", name="unit_rating_once"),
        sa.CheckConstraint("period_kind IN ('week', 'month')", name="unit_rating_period_known"),
        sa.CheckConstraint(f"board IN {BOARDS}", name="unit_rating_board_known"),
        sa.CheckConstraint(f"override_board IS NULL OR override_board IN {BOARDS}", name="unit_rating_override_known"),
        sa.CheckConstraint("(override_board IS NULL) = (override_reason IS NULL) "
                           "AND (override_reason IS NULL OR length(btrim(override_reason)) > 0)",
                           name="unit_rating_override_reason"),
        sa.CheckConstraint("period_start < period_end", name="unit_rating_period_order"),
    )
    op.create_index("ix_unit_ratings_period", "unit_ratings", ["period_kind", "period"])
    op.create_index("ix_unit_ratings_unit", "unit_ratings", ["unit_id", "period_kind", "period_start"])
    op.execute("CREATE TRIGGER unit_ratings_version BEFORE UPDATE ON unit_ratings "
               "FOR EACH ROW EXECUTE FUNCTION bump_row_version()")
    op.create_table(
        "credit_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),  # a credit event of ratings.toml, 'initial' or 'manual'
        sa.Column("note", sa.Text()),
        sa.Column("source_key", sa.Text()),  # inspection:12, case:5, escalation:7, case_event:9, rating:month:2026-11
        sa.Column("inspection_id", sa.BigInteger()),
        sa.Column("case_id", sa.BigInteger()),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),  # when the event happened
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("unit_id", "reason", "source_key", name="credit_entry_once"),
        sa.CheckConstraint("reason <> 'manual' OR length(btrim(coalesce(note, ''))) > 0",
                           name="credit_manual_has_reason"),
    )
    op.create_index("ix_credit_entries_unit", "credit_entries", ["unit_id", "at"])
    op.execute(CREDIT_VIEW)
    op.execute(CASE_MISSED_AT)
    op.create_table(
        "duty_boards",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("photo", sa.Text()),  # sha256 of an upload
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"status IN {BOARD_STATES}", name="duty_board_status_known"),
    )
    op.create_index("ix_duty_boards_unit", "duty_boards", ["unit_id", "at"])
    op.create_table(
        "pledges",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("signatory", sa.Text(), nullable=False),
        sa.Column("scan", sa.Text()),  # sha256 of the scan upload
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("length(btrim(signatory)) > 0", name="pledge_signatory"),
    )
    op.create_index("ix_pledges_unit", "pledges", ["unit_id", "signed_on"])
    op.drop_column("units", "credit_points")
    for table in AUDITED:
        op.execute(f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS case_missed_at(cases, timestamptz)")
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS audit_{table} ON {table}")
    op.add_column("units", sa.Column("credit_points", sa.Integer()))
    op.execute("UPDATE units u SET credit_points = c.balance FROM unit_credit c WHERE c.unit_id = u.id")
    op.drop_table("pledges")
    op.drop_table("duty_boards")
    op.execute("DROP VIEW unit_credit")
    op.drop_table("credit_entries")
    op.drop_table("unit_ratings")
