"""The organisation the cases need: street steward teams (街长/路长 teams) and named 楼院长 of compounds.

A steward team looks after a street (or a segment of one): a leader and members, each from a department of
departments.toml (街道办 is the department `subdistrict`). Members' names and phones are personal data.

A compound without a property manager has a synthetic party ("金陵小区 楼院长（无物业）"). Naming its 楼院长 makes a
party of its own (kind building_head, ref compound_head:<id>) that takes the compound's zones as new versions;
the earlier holder stays in the earlier zone versions, so a lookup or a case of an earlier date names it.
compound_heads keeps every appointment (until set when the next one is made). Like cases, compound ids are
values, not foreign keys: reloading a city must not delete the record of who was appointed.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

AUDITED = ("steward_teams", "steward_team_members", "compound_heads")


def upgrade() -> None:
    op.create_table(
        "steward_teams",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("street", sa.Text(), nullable=False),  # the street's name (or id) as given
        sa.Column("street_ids", sa.ARRAY(sa.Integer()), nullable=False, server_default="{}"),
        sa.Column("segment", sa.Text()),  # e.g. 汉中路—中山路 (a segment of the street), free text
        sa.Column("note", sa.Text()),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_index("ix_steward_teams_streets", "steward_teams", ["street_ids"], postgresql_using="gin")
    op.create_table(
        "steward_team_members",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("steward_teams.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text()),
        sa.Column("department", sa.Text(), nullable=False),  # a departments.toml code
        sa.CheckConstraint("role IN ('leader', 'member')", name="steward_member_role_known"),
        sa.UniqueConstraint("team_id", "seq", name="steward_member_seq"),
    )
    op.create_index("ix_steward_team_one_leader", "steward_team_members", ["team_id"], unique=True,
                    postgresql_where=sa.text("role = 'leader'"))
    op.create_table(
        "compound_heads",  # 楼院长 appointments, current one with until IS NULL
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text()),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date()),
        sa.Column("assigned_by", sa.Text(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("until IS NULL OR until >= since", name="compound_head_period"),
    )
    op.create_index("ix_compound_heads_current", "compound_heads", ["compound_id"], unique=True,
                    postgresql_where=sa.text("until IS NULL"))
    for table in AUDITED:
        op.execute(f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS audit_{table} ON {table}")
    op.drop_table("compound_heads")
    op.drop_table("steward_team_members")
    op.drop_table("steward_teams")
