"""Signed case links (gridsvc/ops/cases/links.py): one case, its party, this database, until the expiry; tampered,
foreign and unknown links are 404 without saying which, a genuine expired one is 410."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from gridsvc.errors import LinkExpiredError, NotFoundError, http_status
from gridsvc.ops.cases.links import case_url, issue_link, link_expiry, verify_link
from gridsvc.settings import get_settings

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CASE_SQL = """
INSERT INTO cases (code, state, category, kind, urgency, description, source, reported_by, reported_at, geom,
                   party_id, party_name, department, rule, routing, deadlines, stage, due_at)
VALUES (:code, 'dispatched', 'SJ0102', 'event', 'normal', '门前暴露垃圾', 'grid_officer', 't', :now,
        ST_SetSRID(ST_MakePoint(118.78, 32.04), 4326), :party, '测试商店', 'sanitation', 'r', '{}', '{}', 'handle', :due)
RETURNING id
"""


def _case(conn, code: str, party: int | None = 7, due: datetime | None = NOW + timedelta(days=1)) -> int:
    return conn.execute(text(CASE_SQL), {"code": code, "now": NOW, "party": party, "due": due}).scalar_one()


@pytest.fixture
def two_cases(clean_db):
    with clean_db.begin() as c:
        return clean_db, _case(c, "2026120200001"), _case(c, "2026120200002", party=8)


def test_a_link_opens_its_case_until_it_expires(two_cases):
    engine, a, _b = two_cases
    with engine.connect() as c:
        link = issue_link(c, a, now=NOW)
        assert len(link.token) < 50 and link.token.startswith(f"{a}.")
        # expiry: the later of now and the running deadline, plus GRIDSVC_CASE_LINK_DAYS
        assert link.expires_at == NOW + timedelta(days=1 + get_settings().case_link_days)
        found = verify_link(c, link.token, now=NOW)
        assert (found.case_id, found.party_id, found.code) == (a, 7, "2026120200001")
        assert found.principal().role == "party" and found.principal().party_id == 7
        assert verify_link(c, link.token, now=link.expires_at - timedelta(seconds=1)).case_id == a
        with pytest.raises(LinkExpiredError) as err:
            verify_link(c, link.token, now=link.expires_at)
        assert http_status(err.value) == 410 and "expired" in str(err.value)


def test_a_link_of_one_case_does_not_open_another_and_tampering_is_404(two_cases):
    engine, a, b = two_cases
    with engine.connect() as c:
        token = issue_link(c, a, now=NOW).token
        case_id, exp, mac = token.split(".")
        forged = [f"{b}.{exp}.{mac}", f"{a}.{exp}z.{mac}", f"{a}.{exp}.{mac[:-1]}A" if mac[-1] != "A" else
                  f"{a}.{exp}.{mac[:-1]}B", "1", "", "x" * 500, f"{a}.{exp}.{mac}.json", f"99999.{exp}.{mac}"]
        for bad in forged:
            with pytest.raises(NotFoundError) as err:
                verify_link(c, bad, now=NOW)
            assert "not valid" in str(err.value) and http_status(err.value) == 404
        # an old expired forgery says nothing about expiry either
        with pytest.raises(NotFoundError):
            verify_link(c, f"{b}.1.{mac}", now=NOW)


def test_a_link_dies_when_the_case_changes_party(two_cases):
    engine, a, _b = two_cases
    with engine.begin() as c:
        token = issue_link(c, a, now=NOW).token
        c.execute(text("UPDATE cases SET party_id = 9 WHERE id = :i"), {"i": a})
        with pytest.raises(NotFoundError):
            verify_link(c, token, now=NOW)


def test_a_link_of_another_database_is_404(two_cases, second_engine):
    engine, a, _b = two_cases
    with engine.connect() as c:
        token = issue_link(c, a, now=NOW).token
    with second_engine.begin() as c:
        c.execute(text("TRUNCATE cases RESTART IDENTITY CASCADE"))
        assert _case(c, "2026120200001") == a  # the same id and party, another database
        with pytest.raises(NotFoundError):
            verify_link(c, token, now=NOW)
        c.execute(text("TRUNCATE cases RESTART IDENTITY CASCADE"))


def test_expiry_without_a_running_deadline_and_the_url():
    assert link_expiry(None, NOW) == NOW + timedelta(days=get_settings().case_link_days)
    assert link_expiry(NOW - timedelta(days=3), NOW) == NOW + timedelta(days=get_settings().case_link_days)
    assert case_url("https://gs.example.cn/", "1.abc.x") == "https://gs.example.cn/c/1.abc.x"
