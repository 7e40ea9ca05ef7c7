"""Notices of a case as Chinese PDFs (gridsvc/exporters/notices.py), read back: the text (case code, party, the
deadline as a Beijing date, the duty breached, the 督办 level), the QR code (decoded to the party's case link),
the photo without its EXIF/GPS, no reporter's name or phone; the CLI. PDFs and their pictures go to
test-artifacts/notices/."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, timedelta

import pypdf
import pytest
from case_city import GPS_MARK, REPORTER, REPORTER_PHONE, city_with_case
from support import ARTIFACTS
from typer.testing import CliRunner

from gridsvc.exporters.notices import _duration_zh, breached_duties, case_notice
from gridsvc.ops.cases import core
from gridsvc.ops.cases.links import verify_link
from gridsvc.timekeeping import for_people, zone
from gridsvc.zones.policies import load_policy

OUT = ARTIFACTS / "notices"
BASE = "https://gs.example.cn"


@pytest.fixture(scope="module")
def city(engine, tmp_path_factory):
    uploads = tmp_path_factory.mktemp("uploads")
    _info, _sha, case_id = city_with_case(engine, uploads)
    with engine.connect() as c:
        case = core.get_case(c, case_id)
    OUT.mkdir(parents=True, exist_ok=True)
    return engine, case, uploads


def _pdf(city, kind: str, size: str = "A4", **kw) -> tuple[bytes, str]:
    engine, case, uploads = city
    with engine.connect() as c:
        pdf = case_notice(c, case["id"], kind, size=size, base_url=BASE, upload_dir=uploads, **kw)
    (OUT / f"{kind}-{size}.pdf").write_bytes(pdf)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return pdf, reader.pages[0].extract_text()


def _flat(text: str) -> str:
    return "".join(text.split())


def test_the_rectification_notice_names_the_party_the_duty_and_the_beijing_deadline(city):
    _engine, case, _ = city
    pdf, text = _pdf(city, "rectification")
    flat = _flat(text)
    assert "责令整改通知单" in flat and case["code"] in flat
    assert _flat(case["routing"]["party_name"]) in flat
    due = datetime.fromisoformat(case["due_at"])  # dispatched: the 处置 deadline runs
    assert case["stage"] == "handle"
    assert for_people(due, "%Y年%m月%d日%H:%M") in flat  # Beijing wall-clock time
    sanitation = next(d for d in load_policy("三包").duty_list() if d["code"] == "sanitation")
    assert _flat(sanitation["description_zh"]) in flat
    assert "整改期限" in flat and "依据" in flat and "当事人签收" in flat and "门前堆放纸箱和垃圾袋" in flat
    assert REPORTER not in flat and REPORTER_PHONE not in flat and "138" not in flat


def _qr_texts(pdf: bytes, name: str) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    path = OUT / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(OUT / name)], check=True)
    found = zxingcpp.read_barcodes(Image.open(OUT / f"{name}.png"))
    return [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_the_qr_code_is_the_partys_case_link(city, size):
    engine, case, _ = city
    pdf, _text = _pdf(city, "rectification", size)
    texts = _qr_texts(pdf, f"rectification-{size}-qr")
    assert len(texts) == 1 and texts[0].startswith(f"{BASE}/c/{case['id']}.")
    with engine.connect() as c:
        assert verify_link(c, texts[0].rsplit("/", 1)[1]).case_id == case["id"]


def test_the_photo_in_the_pdf_has_no_exif_or_gps(city):
    from PIL import Image

    pdf, _ = _pdf(city, "rectification")
    assert GPS_MARK not in pdf and b"SecretCam" not in pdf
    images = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    photos = [im for im in images if im.image.size[0] >= 200]
    assert photos, "the case's photo is on the notice"
    for im in photos:
        assert b"Exif" not in im.data and GPS_MARK not in im.data
        assert dict(Image.open(io.BytesIO(im.data)).getexif()) == {}


def test_the_reminder_is_an_a5_card_with_a_gentle_deadline(city):
    _engine, case, _ = city
    pdf, text = _pdf(city, "reminder", "A5")
    box = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (420, 595)
    flat = _flat(text)
    assert "提醒卡" in flat and case["code"] in flat and "温馨提示" in flat
    assert for_people(datetime.fromisoformat(case["due_at"]), "%Y年%m月%d日") in flat
    assert REPORTER not in flat
    assert len(_qr_texts(pdf, "reminder-A5-qr")) == 1


def test_the_escalation_notice_names_level_recipient_missed_deadline_and_overdue(city):
    engine, case, _ = city
    due = datetime.fromisoformat(case["due_at"])
    at = due + timedelta(days=10)  # past every level: grid → community → subdistrict → department leader
    with engine.begin() as c:
        assert core.tick(c, at)["escalations_issued"] >= 4
    with engine.connect() as c:
        notices = core.get_case(c, case["id"], now=at)["escalation_notices"]
    first, last = notices[0], notices[-1]
    _, text = _pdf(city, "escalation", now=at)
    flat = _flat(text)
    assert "问题督办单" in flat and case["code"] in flat and "部门领导督办" in flat
    assert _flat(last["to_whom"]) in flat and for_people(due, "%Y年%m月%d日%H:%M") in flat
    assert "已超期" in flat and "10天" in flat and "最高一级" in flat
    _, text = _pdf(city, "escalation", escalation_id=first["id"], now=at)
    flat = _flat(text)
    assert "第1级网格督办" in flat and "将提级为社区督办" in flat and "最高一级" not in flat
    with engine.connect() as c, pytest.raises(Exception, match="no 督办单 999999"):
        case_notice(c, case["id"], "escalation", escalation_id=999999)


def test_the_cli_writes_a_notice(city, cli_env, tmp_path):
    from gridsvc.cli import app

    _engine, case, _ = city
    out = tmp_path / "n.pdf"
    r = CliRunner().invoke(app, ["cases", "notice", case["code"], "--kind", "reminder", "--size", "A5",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert case["code"] in _flat(pypdf.PdfReader(out).pages[0].extract_text())
    r = CliRunner().invoke(app, ["cases", "notice", "2000010100001", "--out", str(out)])
    assert r.exit_code != 0 and "no case" in r.output


def test_duties_and_durations():
    duties = breached_duties("三包", "SJ0503")  # 店外经营 → the order duty
    assert [d["code"] for d in duties] == ["order"]
    assert [d["code"] for d in breached_duties("三包", "SJ0102", "greenery")] == ["greenery"]
    assert len(breached_duties("三包", "SJ0102")) == len(load_policy("三包").duties)
    assert breached_duties(None, "SJ0102") == []
    assert [_duration_zh(m) for m in (5, 60, 125, 1440, 1500)] == ["5分钟", "1小时", "2小时5分钟", "1天", "1天1小时"]
    assert datetime.now(zone()).tzinfo is not None
