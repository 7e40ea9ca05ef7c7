"""A date is a day in GRIDSVC_TZ (Beijing by default): at=, the audit's since/until, CLI output and PDF dates.

A zone changes hands at 23:30 Beijing time on 2026-12-02 (15:30 UTC). "Who was responsible on 2026-12-02" must
answer for the end of that Beijing day (the new holder), in all three ways in: the API query, the batch body
and the CLI; a time without an offset is Beijing wall time (23:00 -> the old holder).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from support import APP_TABLES
from typer.testing import CliRunner

from gridsvc import settings as settings_mod
from gridsvc.api.app import create_app
from gridsvc.cli import app as cli_app
from gridsvc.errors import InputError
from gridsvc.exporters.checklist_pdf import checklist_pdf
from gridsvc.zones.policies import load_policy

BEIJING = ZoneInfo("Asia/Shanghai")
HANDOVER = datetime(2026, 12, 2, 23, 30, tzinfo=BEIJING)  # 15:30 UTC
LNG, LAT = 118.7800, 32.0400
runner = CliRunner()

ZONE_SQL = """
INSERT INTO parties (kind, ref, name) VALUES ('unit', 'test:before', '旧店 before'), ('unit', 'test:after', '新店 after');
INSERT INTO zones (zone_key, version, kind, origin, policy, party_id, valid_from, valid_to, geom)
SELECT 'planner:midnight', 1, 'frontage', 'planner', '三包', p.id, '2026-01-01T00:00:00+08:00', :t,
       ST_Multi(ST_Expand(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.0005))
FROM parties p WHERE p.ref = 'test:before';
INSERT INTO zones (zone_id, zone_key, version, kind, origin, policy, party_id, valid_from, geom)
SELECT z.zone_id, 'planner:midnight', 2, 'frontage', 'planner', '三包', p.id, :t, z.geom
FROM parties p, zones z WHERE p.ref = 'test:after' AND z.zone_key = 'planner:midnight';
"""


@pytest.fixture(scope="module")
def handover(engine):
    """One zone whose holder changes at 23:30 Beijing time on 2026-12-02."""
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
        for stmt in filter(str.strip, ZONE_SQL.split(";")):
            c.execute(text(stmt), {"t": HANDOVER, "x": LNG, "y": LAT})
    return engine


@pytest.fixture
def tz(monkeypatch):
    """Set GRIDSVC_TZ for one test."""
    def use(name: str) -> None:
        monkeypatch.setenv("GRIDSVC_TZ", name)
        settings_mod.get_settings.cache_clear()
    yield use
    monkeypatch.delenv("GRIDSVC_TZ", raising=False)
    settings_mod.get_settings.cache_clear()


# --- the helper -----------------------------------------------------------------------------------------------

def test_a_date_is_a_beijing_day_and_a_naive_time_is_beijing_wall_time():
    from gridsvc import timekeeping  # here, so the tests below fail on behaviour, not on import

    assert timekeeping.instant("2026-12-02") == datetime(2026, 12, 2, 23, 59, 59, 999999, tzinfo=BEIJING)
    assert timekeeping.instant("2026-12-02").isoformat() == "2026-12-02T23:59:59.999999+08:00"
    assert timekeeping.instant("2026-12-02", edge="start") == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert timekeeping.instant("2026-12-02", edge="after") == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert timekeeping.instant("2026-12-02T23:00") == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert timekeeping.instant("2026-12-02T23:00Z") == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert timekeeping.instant(date(2026, 12, 2)) == timekeeping.instant("2026-12-02")
    now = timekeeping.instant(None)
    assert now.utcoffset() == timedelta(hours=8) and abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert timekeeping.for_people(datetime(2026, 12, 2, 16, 30, tzinfo=UTC)) == "2026-12-03 00:30:00"


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-12-02 25:00", "1" * 5000, ""])
def test_anything_else_is_one_error_naming_the_parameter(bad):
    from gridsvc import timekeeping

    with pytest.raises(InputError) as err:
        timekeeping.instant(bad, where="at")
    assert err.value.where == "at" and "a date like 2026-05-01" in err.value.message
    assert len(err.value.message) < 300  # a 5,000-character value is not echoed back whole


def test_gridsvc_tz_sets_the_day_and_must_be_a_real_zone(tz):
    from gridsvc import timekeeping

    tz("UTC")
    assert timekeeping.instant("2026-12-02T23:00") == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert timekeeping.instant("2026-12-02").utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="GRIDSVC_TZ must be an IANA time zone"):
        settings_mod.Settings(tz="Mars/Olympus_Mons")


# --- the three ways in --------------------------------------------------------------------------------------

def _holder(body: dict) -> str:
    return body["primary"]["name"]


def test_api_query_at_a_date_means_the_end_of_that_beijing_day(handover, admin_headers):
    with TestClient(create_app(handover)) as client:
        def ask(at):
            r = client.get("/lookup", params={"lng": LNG, "lat": LAT, "at": at}, headers=admin_headers)
            assert r.status_code == 200, r.text
            return r.json()
        on_day = ask("2026-12-02")
        assert _holder(on_day) == "新店 after" and on_day["at"] == "2026-12-02T23:59:59.999999+08:00"
        assert _holder(ask("2026-12-01")) == "旧店 before"
        assert _holder(ask("2026-12-02T23:00")) == "旧店 before"  # Beijing wall time, half an hour before
        assert _holder(ask("2026-12-02T23:45")) == "新店 after"
        assert _holder(ask("2026-12-02T15:29:59Z")) == "旧店 before"  # 23:29:59 Beijing
        assert _holder(ask("2026-12-02T15:30:00+00:00")) == "新店 after"
        r = client.get("/lookup", params={"lng": LNG, "lat": LAT, "at": "2 Dec"}, headers=admin_headers)
        assert r.status_code == 422 and r.json()["detail"].startswith("at: must be a date like 2026-05-01")


def test_batch_body_at_a_date_means_the_end_of_that_beijing_day(handover, admin_headers):
    with TestClient(create_app(handover)) as client:
        def ask(at):
            r = client.post("/lookup", json={"points": [[LNG, LAT]], "at": at}, headers=admin_headers)
            assert r.status_code == 200, r.text
            return r.json()["results"][0]["primary"]["name"]
        assert ask("2026-12-02") == "新店 after"
        assert ask("2026-12-01") == "旧店 before"
        assert ask("2026-12-02T23:00") == "旧店 before"
        assert ask("2026-12-02T23:31") == "新店 after"
        r = client.post("/lookup", json={"points": [[LNG, LAT]], "at": "2026-02-30"}, headers=admin_headers)
        assert r.status_code == 422 and "at: must be a date" in r.json()["detail"]


def test_cli_at_a_date_means_the_end_of_that_beijing_day(handover, cli_env):
    r = runner.invoke(cli_app, ["lookup", str(LNG), str(LAT), "--at", "2026-12-02", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["at"] == "2026-12-02T23:59:59.999999+08:00" and _holder(out) == "新店 after"
    r = runner.invoke(cli_app, ["lookup", str(LNG), str(LAT), "--at", "2026-12-02T23:00", "--json"])
    assert r.exit_code == 0 and _holder(json.loads(r.output)) == "旧店 before"
    r = runner.invoke(cli_app, ["lookup", str(LNG), str(LAT), "--at", "2026-12-02"])
    assert r.exit_code == 0 and "at 2026-12-02 23:59:59 (Asia/Shanghai)" in r.output and "新店 after" in r.output
    r = runner.invoke(cli_app, ["lookup", str(LNG), str(LAT), "--at", "tomorrow"])
    assert r.exit_code == 2 and "--at: must be a date like 2026-05-01" in r.output


# --- the audit's since/until --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def audit_rows(engine):
    """Three audit rows around the Beijing day 2026-12-02 (audit_log is append-only: a unique actor per session)."""
    actor = f"tk-{uuid.uuid4().hex[:8]}"
    times = {"dec1-2330": "2026-12-01T23:30:00+08:00", "dec2-2330": "2026-12-02T23:30:00+08:00",
             "dec3-0030": "2026-12-03T00:30:00+08:00"}
    with engine.begin() as c:
        for what, at in times.items():
            c.execute(text("INSERT INTO audit_log (at, actor, source, action, table_name, record_id) "
                           "VALUES (:at, :a, 'test', 'update', 'zones', :r)"), {"at": at, "a": actor, "r": what})
    return actor


def test_audit_since_and_until_a_date_are_that_beijing_day(engine, audit_rows, admin_headers):
    with TestClient(create_app(engine)) as client:
        def ask(**params):
            r = client.get("/audit", params={"actor": audit_rows, **params}, headers=admin_headers)
            assert r.status_code == 200, r.text
            return [e["record_id"] for e in r.json()["entries"]]
        assert ask(since="2026-12-02", until="2026-12-02") == ["dec2-2330"]
        assert ask(since="2026-12-03") == ["dec3-0030"]
        assert ask(until="2026-12-01") == ["dec1-2330"]
        assert ask(since="2026-12-02T23:30", until="2026-12-03T00:30") == ["dec2-2330"]  # until is exclusive
        entry = client.get("/audit", params={"actor": audit_rows, "since": "2026-12-03"},
                           headers=admin_headers).json()["entries"][0]
        assert entry["at"].startswith("2026-12-03T00:30:00") and entry["at"].endswith("+08:00")
        r = client.get("/audit", params={"since": "last week"}, headers=admin_headers)
        assert r.status_code == 422 and r.json()["detail"].startswith("since: must be a date")


def test_cli_audit_takes_and_prints_beijing_days(engine, audit_rows, cli_env):
    r = runner.invoke(cli_app, ["audit", "--actor", audit_rows, "--since", "2026-12-02", "--until", "2026-12-02"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("2026-12-02 23:30:00 ") and "dec2-2330" in r.output
    assert "dec1" not in r.output and "dec3" not in r.output
    r = runner.invoke(cli_app, ["audit", "--actor", audit_rows, "--since", "2026-12-03", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)[0]["at"] == "2026-12-03T00:30:00+08:00"


# --- the public page -----------------------------------------------------------------------------------------

def test_public_page_dates_a_rating_by_the_beijing_day(handover):
    with handover.begin() as c:
        code = c.execute(text(
            "INSERT INTO units (name, geom, source_file, source_id, rating, rated_at) VALUES ('夜宵店', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'test-timekeeping', 'u1', 'red', '2026-12-03T00:30:00+08:00') "
            "RETURNING public_code"), {"x": LNG, "y": LAT}).scalar_one()
    with TestClient(create_app(handover)) as client:
        body = client.get(f"/u/{code}", params={"format": "json"}).json()
        page = client.get(f"/u/{code}").text
    assert body["rating"]["rated_at"] == "2026-12-03T00:30:00+08:00"
    assert "Rated on 2026-12-03" in page  # 16:30 UTC on Dec 2


# --- PDFs ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])  # UTC+14 and UTC-12: never the same day
def test_the_checklist_is_dated_today_in_gridsvc_tz(tz, tmp_path, zone):
    tz(zone)
    pdf = checklist_pdf([{"seq": 1, "name": "老王牛肉面馆", "address": "湖南路10号", "rating": None}],
                        grid_code="320106001001001", community="湖南路社区", officer="王晓明",
                        policy_duties=load_policy("三包"), out=tmp_path / "checklist.pdf")
    page = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert f"打印日期 {datetime.now(ZoneInfo(zone)).date().isoformat()}" in page
