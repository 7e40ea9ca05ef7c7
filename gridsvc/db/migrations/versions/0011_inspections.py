"""Inspections (巡查, 暗访): one row per visit with its derived score, one row per checklist item result.

Like a case, an inspection keeps what it was made against as values (the unit, zone, party and grid of the
moment), without foreign keys: rebuilding zones or reloading a city must not delete the record of a visit.
A case opened from a failed item names its inspection (cases.inspection_id) and the item (cases.inspection_item).

`external_key` makes the paper import idempotent: a filled-in results sheet row is keyed by the sheet's pack id,
the unit and the visit time, so importing the same sheet twice records nothing new.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TARGET_KINDS = "('unit', 'zone', 'market', 'compound', 'street', 'point')"
INSPECTOR_KINDS = ("('grid_officer', 'steward', 'chengguan', 'volunteer', 'compound_head', 'leader', "
                   "'third_party')")
SOURCES = "('api', 'field', 'paper')"
AUDITED = ("inspections",)


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("checklist", sa.Text(), nullable=False),
        sa.Column("target_kind", sa.Text(), nullable=False),
        sa.Column("target_ref", sa.Text()),  # market / compound / street id or name, as given
        sa.Column("unit_id", sa.Integer()),
        sa.Column("target_zone_id", sa.Integer()),  # not zone_id: the audit log keys rows by zone_id
        sa.Column("party_id", sa.Integer()),
        sa.Column("grid_code", sa.Text()),
        sa.Column("inspector", sa.Text(), nullable=False),  # the account that recorded it
        sa.Column("inspector_name", sa.Text()),
        sa.Column("inspector_kind", sa.Text(), nullable=False),
        sa.Column("unannounced", sa.Boolean(), nullable=False, server_default=sa.false()),  # 暗访
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True)),
        sa.Column("crs_in", sa.Text()),  # WGS84 / GCJ-02 / BD-09 as the position came in
        sa.Column("score", sa.Numeric(8, 2)),  # the derived score; NULL when no item carries a score
        sa.Column("max_score", sa.Numeric(8, 2)),
        sa.Column("items_total", sa.SmallInteger(), nullable=False),
        sa.Column("items_failed", sa.SmallInteger(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("external_key", sa.Text(), unique=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"target_kind IN {TARGET_KINDS}", name="inspection_target_known"),
        sa.CheckConstraint(f"inspector_kind IN {INSPECTOR_KINDS}", name="inspection_inspector_kind_known"),
        sa.CheckConstraint(f"source IN {SOURCES}", name="inspection_source_known"),
        sa.CheckConstraint("items_failed BETWEEN 0 AND items_total", name="inspection_counts"),
        sa.CheckConstraint("passed = (items_failed = 0)", name="inspection_passed_derived"),
    )
    op.create_index("ix_inspections_unit", "inspections", ["unit_id", "inspected_at"])
    op.create_index("ix_inspections_grid", "inspections", ["grid_code", "inspected_at"])
    op.create_index("ix_inspections_at", "inspections", ["inspected_at"])
    op.create_table(
        "inspection_results",
        sa.Column("inspection_id", sa.BigInteger(), sa.ForeignKey("inspections.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("item_id", sa.Text(), primary_key=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(8, 2)),  # the item's score when it carries one (earned only on pass)
        sa.Column("note", sa.Text()),
        sa.Column("photos", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.CheckConstraint("result IN ('pass', 'fail', 'na')", name="inspection_result_known"),
    )
    op.add_column("cases", sa.Column("inspection_id", sa.BigInteger(),
                                     sa.ForeignKey("inspections.id", ondelete="SET NULL")))
    op.add_column("cases", sa.Column("inspection_item", sa.Text()))
    op.create_index("ix_cases_inspection", "cases", ["inspection_id"],
                    postgresql_where=sa.text("inspection_id IS NOT NULL"))
    for table in AUDITED:
        op.execute(f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_row()")


def downgrade() -> None:
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS audit_{table} ON {table}")
    op.drop_index("ix_cases_inspection", "cases")
    op.drop_column("cases", "inspection_item")
    op.drop_column("cases", "inspection_id")
    op.drop_table("inspection_results")
    op.drop_table("inspections")
