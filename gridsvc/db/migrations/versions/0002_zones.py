"""Responsibility zones with versions (valid_from/valid_to), zone builds, street stewards.

Revision ID: 0002
Revises: 0001
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


VIEW = """
CREATE VIEW zones_current AS
SELECT z.id, z.zone_key, z.version, z.kind, z.origin AS provenance, z.policy, z.unit_id, z.street_id,
       z.compound_id, z.market_id, z.party_id, p.kind AS party_kind, p.name AS party_name,
       p.contact AS party_contact, p.phone AS party_phone, (z.props->>'area_m2')::float AS area_m2,
       z.props->>'side' AS side, z.props->>'depth_rule' AS depth_rule, (z.props->>'frontage_m')::float AS frontage_m,
       z.valid_from, z.valid_to, z.geom
FROM zones z LEFT JOIN parties p ON p.id = z.party_id
WHERE z.valid_to IS NULL
"""


def upgrade() -> None:
    op.create_table(
        "zone_builds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("counts", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("unassigned", postgresql.JSONB(), nullable=False, server_default="[]"),
    )
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("zone_key", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id", ondelete="RESTRICT")),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="SET NULL")),
        sa.Column("street_id", sa.Integer(), sa.ForeignKey("streets.id", ondelete="SET NULL")),
        sa.Column("compound_id", sa.Integer(), sa.ForeignKey("compounds.id", ondelete="SET NULL")),
        sa.Column("market_id", sa.Integer(), sa.ForeignKey("markets.id", ondelete="SET NULL")),
        sa.Column("props", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("build_id", sa.Integer(), sa.ForeignKey("zone_builds.id", ondelete="SET NULL")),
        sa.Column("created_by", sa.Text(), nullable=False, server_default="gridsvc"),
        sa.Column("valid_from", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True)),
        sa.Column("geom", geoalchemy2.types.Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.UniqueConstraint("zone_key", "version", name="zones_key_version"),
        sa.CheckConstraint("kind IN ('frontage', 'market', 'compound', 'street_space')", name="zone_kind_known"),
        sa.CheckConstraint("origin IN ('auto', 'planner')", name="zone_origin_known"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="zone_validity_ordered"),
    )
    op.create_index("ix_zones_geom_gist", "zones", ["geom"], postgresql_using="gist")
    op.create_index("ix_zones_current_geom_gist", "zones", ["geom"], postgresql_using="gist",
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.create_index("ix_zones_current_key", "zones", ["zone_key"], unique=True,
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.create_index("ix_zones_unit", "zones", ["unit_id"])
    op.create_index("ix_zones_validity", "zones", ["valid_from", "valid_to"])
    op.add_column("streets", sa.Column("steward_party_id", sa.Integer(),
                                       sa.ForeignKey("parties.id", ondelete="SET NULL")))
    op.execute(VIEW)
    op.create_check_constraint(
        "party_kind_known", "parties",
        "kind IN ('unit', 'property_manager', 'building_head', 'market_operator', 'street_steward', 'grid_officer')")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS zones_current")
    op.drop_constraint("party_kind_known", "parties")
    op.drop_column("streets", "steward_party_id")
    op.drop_table("zones")
    op.drop_table("zone_builds")
