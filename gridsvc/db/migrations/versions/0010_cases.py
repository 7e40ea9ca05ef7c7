"""Cases (问题/案卷) of the 数字城管 flow: departments, cases with their routing and deadlines, case events,
escalations (督办单); the dispatcher role.

A case keeps the routing of the moment it was reported (zone and zone version, party, grid, grid officer,
department, the rule applied) as values, without foreign keys: reloading a city's layers or rebuilding its zones
must neither delete nor reroute a case.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_ROLES = "('admin', 'planner', 'grid_officer', 'inspector', 'party', 'public')"
NEW_ROLES = "('admin', 'planner', 'grid_officer', 'inspector', 'party', 'public', 'dispatcher')"
STATES = ("('accepted', 'registered', 'dispatched', 'rectified', 'verified', 'closed', 'rework', "
          "'extension_requested', 'deferred', 'void')")
SOURCES = "('inspection', 'grid_officer', 'steward', 'leader', 'citizen', 'hotline', 'dispatcher')"
STAGES = "('register', 'dispatch', 'handle', 'verify')"
AUDITED = ("departments", "cases", "case_events", "escalations")


def upgrade() -> None:
    op.drop_constraint("user_role_known", "users")
    op.create_check_constraint("user_role_known", "users", f"role IN {NEW_ROLES}")
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),  # the audit log's record id
        sa.Column("code", sa.Text(), nullable=False, unique=True),
        sa.Column("zh", sa.Text(), nullable=False),
        sa.Column("en", sa.Text(), nullable=False),
        sa.Column("leader_zh", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "case_counters",  # the daily sequence of case codes (2026120200001 = the first case of 2026-12-02)
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("code", sa.Text(), nullable=False, unique=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("prior_state", sa.Text()),  # the state a 延期 request returns to
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("urgency", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reporter_name", sa.Text()),
        sa.Column("reporter_phone", sa.Text()),
        sa.Column("reported_by", sa.Text(), nullable=False),  # the account that opened it
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
        # the routing at report time
        sa.Column("route_zone_id", sa.Integer()),  # not zone_id: the audit log keys rows by zone_id
        sa.Column("zone_version", sa.Integer()),
        sa.Column("zone_kind", sa.Text()),
        sa.Column("unit_id", sa.Integer()),
        sa.Column("party_id", sa.Integer()),
        sa.Column("party_name", sa.Text()),
        sa.Column("grid_code", sa.Text()),
        sa.Column("officer_id", sa.Integer()),
        sa.Column("officer_name", sa.Text()),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("routing", postgresql.JSONB(), nullable=False),
        # deadlines: each stage's, and the running stage's with the instants its 督办 levels are reached
        sa.Column("deadlines", postgresql.JSONB(), nullable=False),
        sa.Column("stage", sa.Text()),
        sa.Column("stage_started_at", sa.DateTime(timezone=True)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("escalate_at", postgresql.ARRAY(sa.DateTime(timezone=True))),
        sa.Column("escalation_level", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("escalations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("overdue_marked_at", sa.DateTime(timezone=True)),
        sa.Column("ever_overdue", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("rework_count", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("duplicate_of", sa.BigInteger(), sa.ForeignKey("cases.id", ondelete="SET NULL")),
        sa.Column("external_ids", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"state IN {STATES}", name="case_state_known"),
        sa.CheckConstraint(f"source IN {SOURCES}", name="case_source_known"),
        sa.CheckConstraint("kind IN ('event', 'component')", name="case_kind_known"),
        sa.CheckConstraint("urgency IN ('urgent', 'normal')", name="case_urgency_known"),
        sa.CheckConstraint(f"stage IS NULL OR stage IN {STAGES}", name="case_stage_known"),
        sa.CheckConstraint("(stage IS NULL) = (due_at IS NULL)", name="case_stage_has_deadline"),
        sa.CheckConstraint("escalation_level BETWEEN 0 AND 4", name="case_escalation_level"),
    )
    op.create_index("ix_cases_due", "cases", ["due_at"], postgresql_where=sa.text("due_at IS NOT NULL"))
    op.create_index("ix_cases_grid_due", "cases", ["grid_code", "due_at"])
    op.create_index("ix_cases_party", "cases", ["party_id", "reported_at"])
    op.create_index("ix_cases_state", "cases", ["state", "reported_at"])
    op.create_index("ix_cases_reported", "cases", ["reported_at"])
    op.create_index("ix_cases_unit", "cases", ["unit_id", "reported_at"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.BigInteger(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("from_state", sa.Text()),
        sa.Column("to_state", sa.Text()),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("photos", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("data", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.UniqueConstraint("case_id", "seq", name="case_event_seq"),
    )
    op.create_table(
        "escalations",  # 督办单
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.BigInteger(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("stage_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),  # 1 = grid … 4 = department leader
        sa.Column("level_code", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),  # the deadline that was missed
        sa.Column("notify", sa.Text(), nullable=False),
        sa.Column("to_whom", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.UniqueConstraint("case_id", "stage", "stage_started_at", "level", name="escalation_once"),
    )
    op.create_index("ix_escalations_issued", "escalations", ["issued_at"])
    for table in AUDITED:
        op.execute(f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS audit_{table} ON {table}")
    op.drop_table("escalations")
    op.drop_table("case_events")
    op.drop_table("cases")
    op.drop_table("case_counters")
    op.drop_table("departments")
    op.execute("UPDATE users SET disabled_at = coalesce(disabled_at, now()), role = 'public' WHERE role = 'dispatcher'")
    op.drop_constraint("user_role_known", "users")
    op.create_check_constraint("user_role_known", "users", f"role IN {OLD_ROLES}")
