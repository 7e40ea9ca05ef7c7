"""Zone and party kinds have one home (gridsvc/zones/kinds.py): the SQL function, the database's constraints, the
API's types and what the workspace receives all agree with it, and the workspace keeps no list of its own."""

from __future__ import annotations

import importlib
import re
import typing
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.zones import kinds

STATIC = Path(kinds.__file__).resolve().parent.parent / "static" / "workspace"


def test_the_table_is_consistent():
    assert sorted(kinds.RANK.values()) == list(range(1, len(kinds.ZONE_KINDS) + 1))
    assert kinds.ZONE_KINDS == tuple(sorted(kinds.RANK, key=kinds.RANK.get))
    assert set(typing.get_args(kinds.ZoneKind)) == set(kinds.ZONE_KINDS)
    assert set(typing.get_args(kinds.PartyKind)) == set(kinds.PARTY_KINDS)
    assert set(kinds.ZONE_KIND_OF_PARTY.values()) == set(kinds.ZONE_KINDS), "every zone kind has a holder"
    assert set(kinds.KIND_LABELS) == {*kinds.ZONE_KINDS, "grid"}


def test_sql_zone_rank_agrees_with_the_table(engine):
    with engine.connect() as c:
        got = {k: c.execute(text("SELECT zone_rank(:k)"), {"k": k}).scalar_one() for k in kinds.ZONE_KINDS}
        assert c.execute(text("SELECT zone_rank('palace')")).scalar_one() is None
        checks = dict(c.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname IN ('zone_kind_known', 'party_kind_known')")).all())
    assert got == kinds.RANK
    migration = importlib.import_module("gridsvc.db.migrations.versions.0009_zone_rank")
    assert migration.RANK == kinds.RANK, "a change of precedence is a new migration replacing zone_rank()"
    assert set(re.findall(r"'(\w+)'", checks["zone_kind_known"])) == set(kinds.ZONE_KINDS)
    assert set(re.findall(r"'(\w+)'", checks["party_kind_known"])) == set(kinds.PARTY_KINDS)


def test_every_lookup_query_orders_by_zone_rank():
    sql_dir = Path(kinds.__file__).resolve().parent.parent / "db" / "sql"
    for name in ("lookup.sql", "lookup_batch.sql"):
        body = (sql_dir / name).read_text(encoding="utf-8")
        assert "zone_rank(z.kind)" in body and "array_position" not in body, name


def test_the_workspace_receives_the_kinds_and_has_no_list_of_its_own(engine):
    cfg = TestClient(create_app(engine)).get("/workspace/config").json()
    assert [k["kind"] for k in cfg["zone_kinds"]] == list(kinds.ZONE_KINDS)
    assert [k["rank"] for k in cfg["zone_kinds"]] == [kinds.RANK[k] for k in kinds.ZONE_KINDS]
    assert [p["kind"] for p in cfg["party_kinds"]] == list(kinds.PARTY_KINDS)
    assert all(k["zh"] and k["en"] for k in cfg["zone_kinds"] + cfg["party_kinds"])
    assert {p["kind"]: p["zone_kind"] for p in cfg["party_kinds"]} == kinds.ZONE_KIND_OF_PARTY
    for script in STATIC.glob("*.js"):
        source = script.read_text(encoding="utf-8")
        assert "'street_space'" not in source and "'market_operator'" not in source, script.name
        assert not re.search(r"'(kind|party)\.(frontage|market|compound|street_space|unit|grid_officer)':", source), \
            script.name
