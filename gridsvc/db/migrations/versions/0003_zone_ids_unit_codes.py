"""Stable zone ids across versions; units' public code (一户一码) and rating (红黄黑牌).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A zone keeps one public id across its versions: the row id of its first version.
ZONE_ID_TRIGGER = """
CREATE FUNCTION zones_keep_zone_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.zone_id IS NULL THEN
    SELECT z.zone_id INTO NEW.zone_id FROM zones z WHERE z.zone_key = NEW.zone_key LIMIT 1;
    NEW.zone_id := coalesce(NEW.zone_id, NEW.id);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER zones_zone_id BEFORE INSERT ON zones FOR EACH ROW EXECUTE FUNCTION zones_keep_zone_id();
"""

VIEW = """
CREATE OR REPLACE VIEW zones_current AS
SELECT z.id, z.zone_key, z.version, z.kind, z.origin AS provenance, z.policy, z.unit_id, z.street_id,
       z.compound_id, z.market_id, z.party_id, p.kind AS party_kind, p.name AS party_name,
       p.contact AS party_contact, p.phone AS party_phone, (z.props->>'area_m2')::float AS area_m2,
       z.props->>'side' AS side, z.props->>'depth_rule' AS depth_rule, (z.props->>'frontage_m')::float AS frontage_m,
       z.valid_from, z.valid_to, z.geom, z.zone_id
FROM zones z LEFT JOIN parties p ON p.id = z.party_id
WHERE z.valid_to IS NULL
"""

PUBLIC_CODE = "substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)"


def upgrade() -> None:
    op.add_column("zones", sa.Column("zone_id", sa.Integer()))
    op.execute("UPDATE zones z SET zone_id = f.first FROM "
               "(SELECT zone_key, min(id) AS first FROM zones GROUP BY zone_key) f WHERE f.zone_key = z.zone_key")
    op.alter_column("zones", "zone_id", nullable=False)
    op.create_index("ix_zones_zone_id", "zones", ["zone_id", "version"], unique=True)
    op.execute(ZONE_ID_TRIGGER)
    op.execute(VIEW)
    op.add_column("units", sa.Column("public_code", sa.Text(), server_default=sa.text(PUBLIC_CODE), nullable=False))
    op.create_unique_constraint("units_public_code", "units", ["public_code"])
    op.add_column("units", sa.Column("rating", sa.Text()))
    op.add_column("units", sa.Column("credit_points", sa.Integer()))
    op.add_column("units", sa.Column("rated_at", sa.DateTime(timezone=True)))
    op.create_check_constraint("unit_rating_known", "units", "rating IN ('red', 'yellow', 'black')")


def downgrade() -> None:
    op.execute("DROP VIEW zones_current")
    op.drop_constraint("unit_rating_known", "units")
    for col in ("rated_at", "credit_points", "rating"):
        op.drop_column("units", col)
    op.drop_constraint("units_public_code", "units")
    op.drop_column("units", "public_code")
    op.execute("DROP TRIGGER zones_zone_id ON zones")
    op.execute("DROP FUNCTION zones_keep_zone_id()")
    op.drop_index("ix_zones_zone_id", "zones")
    op.drop_column("zones", "zone_id")
    op.execute(VIEW.replace("OR REPLACE ", "").replace(", z.zone_id", ""))
