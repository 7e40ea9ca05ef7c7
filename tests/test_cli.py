"""The command line as a user types it: ingest, build grid and zones, export, errors, db url/status/reset, users,
people, zones history/reassign, lookup, validate and audit, each checked by what it prints and what it changed."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from small_city import DETACHED_BY_M, MOVED_ZONE, SHOPS, STREET, expected_gap, to_wgs84, write_city
from sqlalchemy import text
from support import APP_TABLES, NANJING, scratch_database, shared_file
from typer.testing import CliRunner

from gridsvc import settings as settings_mod
from gridsvc.cli import app
from gridsvc.db import engine as engine_mod
from gridsvc.geo.chinese_crs import wgs84_to_gcj02
from gridsvc.zones.policies import load_policy

runner = CliRunner()


@pytest.fixture
def cli_db(clean_db, database_url, monkeypatch):
    """Point the CLI at the test database."""
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database_url)
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()
    yield clean_db
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()


def test_ingest_build_and_export_every_format(cli_db, tmp_path):
    r = runner.invoke(app, ["ingest", str(shared_file(NANJING))])
    assert r.exit_code == 0, r.output
    assert "units" in r.output and "buildings" in r.output and "1277" in r.output
    r = runner.invoke(app, ["build", "grid", "--res", "10"])
    assert r.exit_code == 0 and "cells at res 10" in r.output
    for ext in ("geojson", "gpkg", "shp", "kml"):
        out = tmp_path / f"markets.{ext}"
        r = runner.invoke(app, ["export", "layer", "markets", "--out", str(out)])
        assert r.exit_code == 0, r.output
        back = gpd.read_file(out, engine="pyogrio")
        names = set(back["Name" if ext == "kml" else "name"])
        assert "科巷菜市场" in names, (ext, names)
        assert back.crs.to_epsg() == 4326
    out = tmp_path / "cells.gpkg"
    assert runner.invoke(app, ["export", "layer", "cells", "--out", str(out)]).exit_code == 0
    cells = pyogrio.read_dataframe(out)
    assert cells["code"].str.len().eq(15).all() and cells["h3"].str.startswith("8a").all()


def test_bad_input_prints_one_clear_error_and_exit_code_2(cli_db, tmp_path):
    bad = tmp_path / "台账.csv"
    bad.write_text("名称,地址\n新百,中山路1号\n", encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(bad)])
    assert r.exit_code == 2
    assert "台账.csv" in r.output and "error" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["export", "layer", "nonsense", "--out", str(tmp_path / "x.geojson")])
    assert r.exit_code == 1 and "known layers" in r.output


def test_ingest_summarises_repairs_per_layer_and_imports_show_lists_each(cli_db, tmp_path):
    bowties = [shapely.Polygon([(118.780 + 0.01 * i, 32.040), (118.782 + 0.01 * i, 32.042),
                                (118.782 + 0.01 * i, 32.040), (118.780 + 0.01 * i, 32.042)]) for i in range(25)]
    collapsed = shapely.Polygon([(118.79, 32.05), (118.79, 32.051), (118.79, 32.052), (118.79, 32.05)])
    path = tmp_path / "小区.geojson"
    gpd.GeoDataFrame({"name": [f"蝴蝶{i}号小区" for i in range(26)]}, geometry=[*bowties, collapsed],
                     crs=4326).to_file(path)
    r = runner.invoke(app, ["ingest", str(path), "--kind", "compound"])
    assert r.exit_code == 0, r.output
    said = _said(r)
    assert "compounds: 25 geometries repaired, 1 skipped" in said, r.output
    assert "self-intersection" not in said and "make_valid" not in said  # one line, not one per feature
    import_id = cli_db.connect().execute(text("SELECT max(id) FROM imports")).scalar_one()
    assert f"gridsvc imports show {import_id}" in said

    r = runner.invoke(app, ["imports", "list"])
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if line.strip("│ ").startswith(str(import_id)))
    assert [c.strip() for c in row.split("│")[-4:-1]] == ["25", "25", "1"]  # rows stored, repaired, skipped

    r = runner.invoke(app, ["imports", "show", str(import_id)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if "│" in line]
    repaired = [line for line in lines if "│ repaired │ self-intersection at" in line]
    skipped = [line for line in lines if "│ skipped  │" in line and "cannot be repaired into a valid Polygon" in line]
    assert len(repaired) == 25 and len(skipped) == 1
    assert all("compounds" in line for line in repaired + skipped)
    assert "feature-26" in skipped[0]  # the 26th feature of the file

    r = runner.invoke(app, ["imports", "show", str(import_id + 1)])
    assert r.exit_code == 1 and f"no import {import_id + 1}" in r.output and "Traceback" not in r.output


def test_db_url_prints_the_url_in_use(cli_db, database_url):
    r = runner.invoke(app, ["db", "url"])
    assert r.exit_code == 0 and r.output.strip() == database_url


# Every other command, on the small city (tests/small_city.py) in a database of this module's own, as a user types
# them: what each prints, and what it changed in the database.

LOGIN = f"cli:{getpass.getuser()}"  # how the CLI's writes are audited


def _said(r) -> str:
    """A command's output with rich's line wrapping undone (single spaces)."""
    return " ".join(r.output.split())


def _run(*args: str, code: int = 0, stdin: str | None = None):
    r = runner.invoke(app, list(args), input=stdin)
    assert r.exit_code == code, f"gridsvc {' '.join(args)} → {r.exit_code}: {r.output}"
    return r


@pytest.fixture(scope="module")
def cli_city(tmp_path_factory):
    """The small city loaded by `gridsvc ingest`, `build grid` and `build zones` into a database of its own
    (`db reset` must not reach the session's): the engine, 甲/乙/丙 (unit, zone, party ids) and the street."""
    was_local = settings_mod.get_settings().database_url is None
    from gridsvc import cli

    with scratch_database("gridsvc_cli") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDSVC_DATABASE_URL", url)
        mp.setattr(cli.console, "width", 240)  # one printed line per record (rich wraps at 80 off a terminal)
        settings_mod.get_settings.cache_clear()
        engine_mod.get_engine.cache_clear()
        try:
            r = _run("ingest", str(write_city(tmp_path_factory.mktemp("cli-city"))))
            assert "streets" in r.output and "units" in r.output
            _run("build", "grid")
            r = _run("build", "zones", "--policy", "三包")
            assert "frontage" in r.output and "3 zone version(s) opened" not in r.output
            engine = engine_mod.get_engine()
            with engine.connect() as c:
                shops = {s.name: s for s in c.execute(text(
                    "SELECT u.name, u.id AS unit_id, u.building_id, z.zone_id, z.zone_key, z.party_id, "
                    "ST_X(ST_PointOnSurface(z.geom)) AS x, ST_Y(ST_PointOnSurface(z.geom)) AS y "
                    "FROM units u JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage'"))}
                street = c.execute(text("SELECT id FROM streets WHERE name = :n"), {"n": STREET}).scalar_one()
            assert set(shops) == set(SHOPS)
            yield SimpleNamespace(engine=engine, url=url, shops=shops, street=street, was_local=was_local)
        finally:
            engine_mod.get_engine().dispose()
            settings_mod.get_settings.cache_clear()
            engine_mod.get_engine.cache_clear()


def test_user_add_token_list_and_disable(cli_city):
    from gridsvc.errors import AuthError
    from gridsvc.people.users import authenticate, principal_for_bearer

    engine = cli_city.engine
    with engine.connect() as c:
        grid = c.execute(text("SELECT min(code) FROM grid_cells")).scalar_one()
    r = _run("user", "add", "张主任", "--role", "admin", "--password-stdin", stdin="correct-horse-42\n")
    assert "user 张主任 (admin) created" in _said(r) and "correct-horse-42" not in r.output
    r = _run("user", "add", "王网格", "--role", "grid_officer", "--grid", grid)
    assert "user 王网格 (grid_officer) created; no password: use `gridsvc user token`" in _said(r)
    assert "exists already" in _said(_run("user", "add", "王网格", "--role", "planner", code=1))
    assert "a grid officer needs at least one --grid CODE" in _said(
        _run("user", "add", "赵网格", "--role", "grid_officer", code=2))
    with engine.connect() as c:
        assert authenticate(c, "张主任", "correct-horse-42").role == "admin"
        with pytest.raises(AuthError):
            authenticate(c, "张主任", "wrong-password-42")

    r = _run("user", "token", "王网格", "--label", "巡查App")
    token = r.output.strip()
    assert token.startswith("gst_") and len(token.split()) == 1, r.output
    with engine.connect() as c:
        who = principal_for_bearer(c, token)
        label = c.execute(text("SELECT label FROM api_tokens ORDER BY id DESC LIMIT 1")).scalar_one()
    assert (who.name, who.role, who.grids) == ("王网格", "grid_officer", (grid,)) and label == "巡查App"
    listed = [line.split() for line in _run("user", "list").output.splitlines()]  # tab-separated; rich expands tabs
    assert ["王网格", "grid_officer", grid, "tokens=1", "active"] in listed
    assert ["张主任", "admin", "-", "tokens=0", "active"] in listed

    assert "user 王网格 disabled" in _said(_run("user", "disable", "王网格"))
    with engine.connect() as c, pytest.raises(AuthError, match="unknown or revoked"):
        principal_for_bearer(c, token)
    with engine.connect() as c:
        day = c.execute(text("SELECT to_char(disabled_at, 'YYYY-MM-DD') FROM users WHERE name = '王网格'")).scalar_one()
    # the token is not revoked (still counted), but a disabled user's tokens authenticate nobody (above)
    assert ["王网格", "grid_officer", grid, "tokens=1", "disabled", day] in [
        line.split() for line in _run("user", "list").output.splitlines()]
    assert "no active user '王网格'" in _said(_run("user", "token", "王网格", code=1))
    assert "no active user '王网格'" in _said(_run("user", "disable", "王网格", code=1))


def test_people_officer_and_steward(cli_city):
    engine, shop = cli_city.engine, cli_city.shops["甲便利店"]
    with engine.connect() as c:
        community = c.execute(text("SELECT substr(code, 1, 12) FROM grid_cells WHERE ST_Covers(geom, "
                                   "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), {"x": shop.x, "y": shop.y}).scalar_one()
        cells = c.execute(text("SELECT count(*) FROM grid_cells WHERE left(code, 12) = :c"),
                          {"c": community}).scalar_one()
        space = c.execute(text("SELECT array_agg(zone_id ORDER BY zone_id) FROM zones_current "
                               "WHERE kind = 'street_space' AND street_id = :s"), {"s": cli_city.street}).scalar_one()
    assert space, "the street's carriageway has street-space zones"

    r = _run("people", "officer", "王网格", "--phone", "13800000001", "--grid", community)
    officer = int(_said(r).split("officer ", 1)[1].split(":", 1)[0])
    assert f"officer {officer}: 王网格" in _said(r)
    with engine.connect() as c:
        grids = c.execute(text("SELECT grid_code FROM officer_grids WHERE officer_id = :o"), {"o": officer}).scalars().all()
    assert len(grids) == cells and all(g.startswith(community) for g in grids), "a community code takes all its grids"
    assert "no grid with code '999'" in _said(_run("people", "officer", "钱网格", "--grid", "999", code=1))

    r = _run("people", "steward", STREET, "李管家", "--phone", "13900000002")
    party = int(_said(r).split("steward party ", 1)[1].split(";", 1)[0])
    assert f"steward party {party}; {len(space)} street-space zone(s) moved to a new version" in _said(r)
    with engine.connect() as c:
        held = c.execute(text("SELECT zone_id, party_id, version FROM zones_current WHERE zone_id = ANY(:z) "
                              "ORDER BY zone_id"), {"z": space}).all()
        name = c.execute(text("SELECT name, kind FROM parties WHERE id = :p"), {"p": party}).one()
    assert [z.zone_id for z in held] == space and {(z.party_id, z.version) for z in held} == {(party, 2)}
    assert tuple(name) == ("李管家", "street_steward")
    assert "no street with id or name '无此路'" in _said(_run("people", "steward", "无此路", "李管家", code=1))


def test_lookup_prints_who_is_responsible(cli_city):
    engine, shop = cli_city.engine, cli_city.shops["甲便利店"]
    with engine.connect() as c:
        grid = c.execute(text("SELECT code FROM grid_cells WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
                              "4326))"), {"x": shop.x, "y": shop.y}).scalar_one()
        officer = c.execute(text("SELECT o.name, o.phone FROM officers o JOIN officer_grids g ON g.officer_id = o.id "
                                 "WHERE g.grid_code = :g"), {"g": grid}).one_or_none()
    said = _said(_run("lookup", str(shop.x), str(shop.y)))
    assert f"grid {grid}" in said and "primary: 甲便利店 (unit)" in said
    for duty in load_policy("三包").duties:
        assert f"· {duty.zh}：{duty.description_zh}（{duty.en}: {duty.description}）" in said
    assert "rule: 事件先属地后属主" in said
    assert (f"secondary (grid officer): {officer.name} {officer.phone}" if officer
            else "secondary (grid officer): (none assigned)") in said

    body = json.loads(_run("lookup", str(shop.x), str(shop.y), "--json").output)
    assert body["zone"]["id"] == shop.zone_id and body["cell"]["grid_code"] == grid
    gx, gy = wgs84_to_gcj02(np.array([shop.x]), np.array([shop.y]))
    body = json.loads(_run("lookup", str(gx[0]), str(gy[0]), "--crs", "gcj02", "--json").output)
    assert body["zone"]["id"] == shop.zone_id, "a 高德 point is converted before the query"
    said = _said(_run("lookup", str(shop.x), str(shop.y), "--radius", "30"))
    assert f"within 30.0 m: zone {shop.zone_id} frontage 甲便利店 0.0 m" in said
    assert "乙面包房" not in said, "乙's zone lies 40 m further along the street"
    assert "--at: must be a date like 2026-05-01" in _said(_run("lookup", str(shop.x), str(shop.y), "--at", "昨天",
                                                              code=2))
    assert "outside the managed area" in _said(_run("lookup", "116.3974", "39.9093", code=1))


def test_zones_reassign_and_history(cli_city):
    engine = cli_city.engine
    a, b = cli_city.shops["甲便利店"], cli_city.shops["乙面包房"]
    assert f"zone {a.zone_id} now at version 2" in _said(_run("zones", "reassign", str(a.zone_id), "--party",
                                                             str(b.party_id)))
    with engine.connect() as c:
        now = c.execute(text("SELECT party_id, version, provenance FROM zones_current WHERE zone_id = :z"),
                        {"z": a.zone_id}).one()
    assert tuple(now) == (b.party_id, 2, "planner")

    for key in (str(a.zone_id), a.zone_key):
        lines = [" ".join(line.split()) for line in _run("zones", "history", key).output.splitlines() if line.strip()]
        assert len(lines) == 2, lines
        assert lines[0].startswith(f"v1 zone {a.zone_id} ") and lines[0].endswith(": 甲便利店 (unit) by gridsvc build zones")
        assert "→ now" not in lines[0]
        assert lines[1].startswith(f"v2 zone {a.zone_id} ") and lines[1].endswith("→ now: 乙面包房 (unit) by cli")
    assert "no zone 'nosuchzone'" in _said(_run("zones", "history", "nosuchzone", code=1))
    assert "no party 999999" in _said(_run("zones", "reassign", str(a.zone_id), "--party", "999999", code=1))
    with engine.connect() as c:
        assert c.execute(text("SELECT version FROM zones_current WHERE zone_id = :z"), {"z": a.zone_id}).scalar() == 2


def test_audit_lists_what_the_cli_changed(cli_city):
    a, b = cli_city.shops["甲便利店"], cli_city.shops["乙面包房"]
    # (a zone build's summary row is filed under table zones with the build's id as its record: left out here)
    lines = [" ".join(line.split()) for line in
             _run("audit", "--table", "zones", "--record", str(a.zone_id)).output.splitlines()
             if line.strip() and " build zones:" not in line]
    assert len(lines) == 2, lines  # the reassignment: the old version closed (update), the new one (insert)
    assert lines[0].endswith(f"{LOGIN} (cli) insert zones:{a.zone_id}")
    assert lines[1].endswith(f"{LOGIN} (cli) update zones:{a.zone_id}")
    rows = [r for r in json.loads(_run("audit", "--table", "zones", "--record", str(a.zone_id), "--json").output)
            if r["action"] != "build"]
    assert [(r["action"], r["actor"], r["source"]) for r in rows] == [("insert", LOGIN, "cli"), ("update", LOGIN, "cli")]
    assert rows[0]["after"]["party_id"] == b.party_id and rows[0]["after"]["version"] == 2
    assert rows[1]["before"]["valid_to"] is None and rows[1]["after"]["valid_to"] is not None

    users = json.loads(_run("audit", "--table", "users", "--actor", LOGIN, "--json").output)
    made = {r["after"]["name"] for r in users if r["action"] == "insert"}
    assert made == {"张主任", "王网格"} and all("password_hash" not in (r["after"] or {}) for r in users)
    assert any(r["action"] == "update" and r["after"]["disabled_at"] for r in users), "the disabling"
    since = _run("audit", "--since", (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "--json")
    assert json.loads(since.output) == []
    assert "a record id needs its table" in _said(_run("audit", "--record", "1", code=2))


def test_validate_lists_the_gap_and_the_detached_zone(cli_city):
    from gridsvc.versions import ANY_VERSION
    from gridsvc.zones.edits import replace_zone

    engine, shops, gap = cli_city.engine, cli_city.shops, expected_gap("三包")
    a, b, c_ = shops["甲便利店"], shops["乙面包房"], shops["丙药店"]
    said = _said(_run("validate"))
    assert "overlaps: 0" in said and "frontage_gaps: 1" in said and "detached_zones: 0" in said
    assert f"gap street {cli_city.street} (" in said and f"between units {a.unit_id} and {b.unit_id}: " in said
    assert "detached zone" not in said

    moved = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(to_wgs84(MOVED_ZONE))}
    with engine.begin() as conn:
        replace_zone(conn, c_.zone_id, moved, expected_version=ANY_VERSION, by="test")
    said = _said(_run("validate"))
    assert "frontage_gaps: 1" in said and "detached_zones: 1" in said
    assert (f"detached zone {c_.zone_id} of unit {c_.unit_id}: {DETACHED_BY_M} m from its building "
            f"{c_.building_id}") in said
    report = json.loads(_run("validate", "--json").output)
    assert report["summary"]["detached_zones"] == 1 and not report["ok"]
    [found] = report["frontage_gaps"]
    assert (found["unit_a"], found["unit_b"]) == (a.unit_id, b.unit_id)
    assert found["gap_m"] == pytest.approx(gap.gap_m, abs=1.0)


def test_org_teams_and_compound_heads_from_the_command_line(cli_city):
    r = _run("org", "team", "add", "中心街长队", "--street", STREET, "--segment", "东段",
             "--leader", "陈队长,13700001111,街道办", "--member", "李环卫，13700002222，sanitation")
    assert "steward team" in _said(r) and "(2 people)" in _said(r)
    listed = _said(_run("org", "team", "list"))
    assert "中心街长队" in listed and "陈队长 13700001111(街道办)" in listed and "李环卫" in listed
    assert "exactly one leader" not in listed
    assert "a leader is NAME,PHONE,DEPARTMENT" in _said(_run("org", "team", "add", "x", "--street", STREET,
                                                             "--leader", "陈队长", code=2))
    assert "unknown department '城管'" in _said(_run("org", "team", "add", "y", "--street", STREET,
                                                     "--leader", "陈队长,,城管", code=2))
    assert "no compound 999999" in _said(_run("org", "head", "999999", "周楼长", code=1))


def test_db_status_and_reset(cli_city):
    from sqlalchemy import make_url

    from gridsvc.db import migrate

    head = migrate.head_revision()
    said = _said(_run("db", "status"))
    assert "using GRIDSVC_DATABASE_URL (external server)" in said and f"schema revision: {head} (head {head})" in said
    if cli_city.was_local:  # the local cluster's view of the same database
        from gridsvc.pg.cluster import LocalCluster

        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("GRIDSVC_DATABASE_URL")
            mp.setenv("GRIDSVC_DB_NAME", make_url(cli_city.url).database)
            settings_mod.get_settings.cache_clear()
            engine_mod.get_engine.cache_clear()
            said = _said(_run("db", "status"))
            st = LocalCluster(settings_mod.get_settings().cluster_dir).status()
            engine_mod.get_engine().dispose()
        settings_mod.get_settings.cache_clear()
        engine_mod.get_engine.cache_clear()
        assert (f"cluster {st.path}: initialised=True running=True port={st.port} pid={st.pid}" in said
                and f"schema revision: {head} (head {head})" in said)

    engine = engine_mod.get_engine()
    tables = (*APP_TABLES, "users", "api_tokens", "audit_log")

    def counts() -> dict[str, int]:
        with engine.connect() as c:
            return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}

    before = counts()
    assert before["units"] == len(SHOPS) and before["users"] == 2 and before["audit_log"] > 0
    assert "db reset deletes all gridsvc data; run again with --yes" in _said(_run("db", "reset", code=2))
    assert counts() == before, "without --yes nothing changes"
    assert "all gridsvc tables recreated empty" in _said(_run("db", "reset", "--yes"))
    assert counts() == dict.fromkeys(tables, 0)
    assert f"schema revision: {head} (head {head})" in _said(_run("db", "status"))

