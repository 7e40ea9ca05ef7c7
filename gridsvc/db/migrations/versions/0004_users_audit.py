"""Users with roles and grids, revocable API tokens, and the append-only audit log (written by triggers).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = "('admin', 'planner', 'grid_officer', 'inspector', 'party', 'public')"
AUDITED = ("zones", "parties", "units", "officers", "officer_grids", "users", "user_grids", "api_tokens")

# Every row change of an audited table, with who (session settings gridsvc.actor / .role / .source, set by the
# API, the CLI or QGIS's requests), before and after; geometries as GeoJSON, secrets never. Bulk jobs (ingest,
# zone builds) set gridsvc.audit = 'summary' and write one summary row themselves.
AUDIT_FUNCTIONS = """
CREATE FUNCTION audit_json(j jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF j IS NULL THEN RETURN NULL; END IF;
  IF j ? 'geom' AND j->>'geom' IS NOT NULL THEN
    j := jsonb_set(j, '{geom}', ST_AsGeoJSON((j->>'geom')::geometry, 7)::jsonb);
  END IF;
  IF j ? 'centerline' AND j->>'centerline' IS NOT NULL THEN
    j := jsonb_set(j, '{centerline}', ST_AsGeoJSON((j->>'centerline')::geometry, 7)::jsonb);
  END IF;
  RETURN j - 'password_hash' - 'token_hash';
END $$;

CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_j jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
BEGIN
  IF coalesce(current_setting('gridsvc.audit', true), '') = 'summary' THEN RETURN NULL; END IF;
  INSERT INTO audit_log (actor, role, source, action, table_name, record_id, before, after)
  VALUES (coalesce(nullif(current_setting('gridsvc.actor', true), ''), 'db:' || current_user),
          nullif(current_setting('gridsvc.role', true), ''),
          coalesce(nullif(current_setting('gridsvc.source', true), ''), 'db'),
          lower(TG_OP), TG_TABLE_NAME,
          coalesce(new_j->>'zone_id', old_j->>'zone_id', new_j->>'id', old_j->>'id',
                   concat_ws(':', coalesce(new_j, old_j)->>'officer_id', coalesce(new_j, old_j)->>'user_id',
                             coalesce(new_j, old_j)->>'grid_code')),
          audit_json(old_j), audit_json(new_j));
  RETURN NULL;
END $$;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("party_id", sa.Integer()),  # no FK: reloading a city's parties must not touch the accounts
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"role IN {ROLES}", name="user_role_known"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 64", name="user_name_length"),
    )
    op.create_table(
        "user_grids",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("grid_code", sa.Text(), primary_key=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
        sa.Column("label", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text()),
        sa.Column("before", postgresql.JSONB()),
        sa.Column("after", postgresql.JSONB()),
    )
    op.create_index("ix_audit_record", "audit_log", ["table_name", "record_id", "at"])
    op.create_index("ix_audit_actor", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_at", "audit_log", ["at"])
    # foreign keys whose deletes (a re-import dropping buildings or streets) must not scan the referencing table
    op.create_index("ix_units_building", "units", ["building_id"])
    for col in ("street_id", "party_id", "compound_id", "market_id"):
        op.create_index(f"ix_zones_{col}", "zones", [col])
    op.execute(AUDIT_FUNCTIONS)
    for table in AUDITED:
        op.execute(f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_row()")
    op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    op.drop_index("ix_units_building", "units")
    for col in ("street_id", "party_id", "compound_id", "market_id"):
        op.drop_index(f"ix_zones_{col}", "zones")
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS audit_{table} ON {table}")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only(); DROP FUNCTION audit_row(); DROP FUNCTION audit_json(jsonb)")
    op.drop_table("api_tokens")
    op.drop_table("user_grids")
    op.drop_table("users")
