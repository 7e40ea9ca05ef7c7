"""The lookup generation: one number bumped by every transaction that changes what a lookup answers, and a NOTIFY.

Each API worker answers GET /lookup from an in-memory index (gridsvc/zones/lookup_index.py) that must never answer
from a stale state. Every statement that writes zones, parties, streets, units, grid_cells, officers or
officer_grids (INSERT, UPDATE, DELETE, TRUNCATE) records the table in `lookup_pending` (one row per transaction).
That row's deferred constraint trigger runs once, at commit: it bumps `lookup_generation.gen`, logs the tables in
`lookup_changes` under the new generation, and sends NOTIFY gridsvc_lookup '<gen> <table,table>'.

The bump happens at commit time, not at the first write, so the row lock on lookup_generation is held for the
last instant of the transaction only (no deadlock with the writers' own locks), and generations follow commit
order: a listener that has applied generation g has every change committed up to g. The triggers are statement
level, so a zone build of 100,000 rows costs one bump.

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("zones", "parties", "streets", "units", "grid_cells", "officers", "officer_grids")
KEEP_CHANGES = 10_000  # generations kept in lookup_changes; an index further behind reloads everything


def upgrade() -> None:
    op.execute("CREATE TABLE lookup_generation (id integer PRIMARY KEY CHECK (id = 1), gen bigint NOT NULL)")
    # Start from the clock (ms): a database reset or recreated later starts above every generation an index of
    # the one before may hold, so no index takes the new database for the old one.
    op.execute("INSERT INTO lookup_generation VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)")
    op.execute("CREATE TABLE lookup_changes (gen bigint PRIMARY KEY, tables text[] NOT NULL, "
               "committed_at timestamptz NOT NULL DEFAULT clock_timestamp())")
    op.execute("CREATE TABLE lookup_pending (txid bigint PRIMARY KEY, tables text[] NOT NULL)")
    op.execute("""
CREATE FUNCTION lookup_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lookup_pending (txid, tables) VALUES (txid_current(), ARRAY[TG_TABLE_NAME::text])
  ON CONFLICT (txid) DO UPDATE SET tables = lookup_pending.tables || EXCLUDED.tables
  WHERE NOT (EXCLUDED.tables[1] = ANY (lookup_pending.tables));
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION lookup_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE g bigint; t text[];
BEGIN
  DELETE FROM lookup_pending WHERE txid = NEW.txid RETURNING tables INTO t;
  IF t IS NULL THEN RETURN NULL; END IF;
  UPDATE lookup_generation SET gen = gen + 1 WHERE id = 1 RETURNING gen INTO g;
  INSERT INTO lookup_changes (gen, tables) VALUES (g, t);
  DELETE FROM lookup_changes WHERE gen <= g - {KEEP_CHANGES};
  PERFORM pg_notify('gridsvc_lookup', g::text || ' ' || array_to_string(t, ','));
  RETURN NULL;
END $$""")
    op.execute("CREATE CONSTRAINT TRIGGER lookup_bump AFTER INSERT ON lookup_pending DEFERRABLE INITIALLY DEFERRED "
               "FOR EACH ROW EXECUTE FUNCTION lookup_bump()")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER lookup_touch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch()")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS lookup_touch ON {table}")
    op.execute("DROP TABLE IF EXISTS lookup_pending")
    op.execute("DROP FUNCTION IF EXISTS lookup_bump()")
    op.execute("DROP FUNCTION IF EXISTS lookup_touch()")
    op.execute("DROP TABLE IF EXISTS lookup_changes")
    op.execute("DROP TABLE IF EXISTS lookup_generation")
