"""Data access lives in gridsvc/db: no SQL statement is written anywhere else in the package.

Statements are files in gridsvc/db/sql (loaded by `sql("name")`), or, when built from parts (identifiers, optional
filters), small functions in gridsvc/db (queries/, layer_sql.py, store.py). This test reads every module outside
gridsvc/db with the ast module and lists the string literals (f-strings too) that are SQL statements.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gridsvc

PACKAGE = Path(gridsvc.__file__).resolve().parent
# Upper-case SQL at the start of a literal (after blanks and -- comments), as gridsvc writes its SQL; prose such as
# "Copy of gdf" or "Drop empty geometries" does not match.
STATEMENT = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*"
    r"(?:SELECT\s.*?\bFROM\s|SELECT\s+[a-z_]+\(|WITH\s+\w+\s+AS\s*\(|INSERT\s+INTO\s|UPDATE\s+\w+(?:\s+\w+)?\s+SET\s"
    r"|DELETE\s+FROM\s|CREATE\s|DROP\s|ALTER\s|TRUNCATE\s|COPY\s|ANALYZE\b|VACUUM\b|LOCK\s+TABLE\s|GRANT\s|"
    r"SET\s+(?:LOCAL\s+)?\w+\s*(?:=|TO\s))",
    re.DOTALL,
)
# Modules that may keep SQL of their own, and why.
ALLOWED = {
    # The local PostgreSQL cluster itself: CREATE/DROP DATABASE and CREATE EXTENSION, sent with psycopg to the
    # server's maintenance database before any gridsvc database, engine or schema exists.
    "pg/cluster.py",
    # Dump and restore of a whole database: catalogue queries (pg_class, pg_depend) that find whatever user objects
    # a database holds, the psql prelude that drops them before pg_restore, and the row counts after it. They work
    # on any database's catalogue, not on gridsvc's tables.
    "pg/backup.py",
    # Local standbys of the local cluster: the primary's replication slots and pg_stat_replication, asked on its
    # maintenance database (catalogue views of the server, not gridsvc's tables).
    "pg/replica.py",
}


def _literals(tree: ast.AST):
    """(line, text) of each string literal; an f-string is one literal with {…} for its fields."""
    inside_fstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else "{…}")
            yield node.lineno, "".join(parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside_fstrings:
            yield node.lineno, node.value


def sql_outside_db() -> list[str]:
    """'path:line: statement' for every SQL literal in gridsvc outside gridsvc/db and the allowed modules."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("db/") or rel in ALLOWED:
            continue
        for line, value in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            if STATEMENT.match(value):
                found.append(f"gridsvc/{rel}:{line}: {' '.join(value.split())[:80]}")
    return sorted(set(found))


def test_sql_statements_live_in_db():
    found = sql_outside_db()
    assert not found, ("SQL written outside gridsvc/db; move it to a file in gridsvc/db/sql (sql(\"name\")) or a "
                       "named query in gridsvc/db:\n" + "\n".join(found))


def test_the_scan_finds_sql(tmp_path):
    """The pattern catches the shapes gridsvc writes and leaves prose alone."""
    for statement in ("SELECT id FROM units WHERE id = :i", "\n  SELECT u.id,\n u.name\n FROM units u",
                      "SELECT pg_advisory_xact_lock(:k)", "INSERT INTO parties (kind) VALUES (:k)",
                      "UPDATE api_tokens t SET revoked_at = now()", "DELETE FROM feature_cells",
                      "CREATE TEMP TABLE _x AS SELECT 1", "COPY _x (a) FROM STDIN", "ANALYZE zones, parties",
                      "-- a comment\nWITH p AS (SELECT 1) SELECT * FROM p", "SET LOCAL lock_timeout = '5s'"):
        assert STATEMENT.match(statement), statement
    for prose in ("Copy of gdf converted to EPSG:4326.", "Drop empty geometries", "Select the rows by hand",
                  "copy the column and paste it as values", "SELECT", "UPDATE the README", "refresh"):
        assert not STATEMENT.match(prose), prose
    tree = ast.parse('x = f"SELECT {a} FROM {t}"\ny = "DELETE FROM t"\n"""Delete nothing."""\n')
    assert [v for _, v in _literals(tree) if STATEMENT.match(v)] == ["SELECT {…} FROM {…}", "DELETE FROM t"]
