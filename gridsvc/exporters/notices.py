"""Notices of a case as Chinese PDFs (A4 or A5, one page): 提醒卡 (reminder), 整改通知单 (rectification notice) and
问题督办单 (escalation notice, from a row of escalations).

`case_notice(conn, case_id, kind, …)` gathers what a notice prints (`notice_data`) and draws it (`notice_pdf`,
pure). The reminder and the rectification notice go to the responsible party: they carry the party, the place,
the problem, the duty breached (the zone policy's description_zh), the deadline in Beijing time, the zone sketch,
the case's first photo and a QR code of the party's case page (`/c/{token}`, gridsvc/ops/cases/links.py); never the
reporter's name or phone. The 督办单 goes up the chain (grid → community → subdistrict → department leader): the
level, to whom, the missed deadline, how long overdue, and the new requirement.

Photos are re-encoded (gridsvc/files/photos.py) so that no EXIF or GPS reaches the PDF. The sketch, the QR code
and the CJK fonts are the 责任牌's (board_pdf, pdf_fonts).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepInFrame,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import GridsvcError, InputError, NotFoundError
from ..files.photos import clean_jpeg
from ..files.uploads import stored_path
from ..ops.cases import core as case_ops
from ..ops.cases.links import case_url, issue_link
from ..ops.rules.calendar import add_limit
from ..ops.rules.categories import load_categories
from ..ops.rules.escalation import load_escalation
from ..ops.rules.notices import load_notice_texts
from ..settings import get_settings
from ..timekeeping import for_people, zone
from ..zones.policies import load_policy
from .board_pdf import GREY, INK, LIGHT, RED, _draw_qr, _draw_sketch, _geoms, _sketch_caption, qr_matrix
from .pdf_fonts import CjkFonts, render_with_cjk
from .scope import units_by_id
from .unit_boards import board_units, default_policy, read_board_sources

log = logging.getLogger(__name__)
Kind = Literal["reminder", "rectification", "escalation"]
KINDS = ("reminder", "rectification", "escalation")
SIZES = {"A4": A4, "A5": A5}
DATE = "%Y年%m月%d日 %H:%M"


# ---- what a notice prints ----

def breached_duties(policy_name: str | None, category: str, item: str | None = None) -> list[dict]:
    """The duties of the zone's policy a case breaches: the duty of the inspection item it came from, else those
    whose failures open cases in its category (categories.toml [duty_categories]), else all of them."""
    if not policy_name:
        return []
    try:
        duties = load_policy(policy_name).duty_list()
    except GridsvcError:
        return []
    by_item = [d for d in duties if item and d["code"] == item]
    if by_item:
        return by_item
    cats = load_categories()
    matching = [d for d in duties if cats.for_duty(d["code"]) == category]
    return matching or duties


def _duration_zh(minutes: int) -> str:
    """Overdue by: 2天3小时 / 5小时20分钟 / 15分钟."""
    days, rest = divmod(max(0, int(minutes)), 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


def _handle_deadline(case: Mapping) -> datetime | None:
    """The deadline of rectification (处置): the running one while the party is handling, else the projected one."""
    if case["stage"] == "handle" and case["due_at"]:
        return datetime.fromisoformat(case["due_at"])
    due = (case["deadlines"].get("handle") or {}).get("due")
    return datetime.fromisoformat(due) if due else None


def _place(case: Mapping, unit: Mapping | None) -> str:
    parts = []
    if unit is not None and unit.get("address"):
        parts.append(str(unit["address"]))
    if unit is not None and unit.get("name"):
        parts.append(f"{unit['name']}门前")
    parts.append(f"（{case['point']['lat']:.5f}N, {case['point']['lng']:.5f}E"
                 + (f"，网格 {case['routing']['grid_code']}" if case["routing"]["grid_code"] else "") + "）")
    return " ".join(parts)


def _first_photo(case: Mapping, upload_dir: Path | None) -> bytes | None:
    """The case's first photo (the report's, else the earliest event's) re-encoded without metadata."""
    if upload_dir is None:
        return None
    for event in case.get("events", []):
        for sha in event.get("photos") or []:
            try:
                path = stored_path(Path(upload_dir), sha)
                return clean_jpeg(path.read_bytes(), max_side=1200) if path.is_file() else None
            except (GridsvcError, OSError) as e:
                log.warning("case %s: photo %s left off the notice: %s", case["code"], sha, e)
                return None
    return None


def _sketch_unit(conn: Connection, unit_id: int | None) -> dict | None:
    """board_pdf's unit dict (metric zone, building, street and its name) of the case's unit, if any."""
    if unit_id is None:
        return None
    try:
        units = units_by_id(conn, [unit_id])
    except NotFoundError:
        return None
    sources = read_board_sources(conn, units)
    found = board_units(units, sources["zones"], sources["buildings"], sources["streets"], default_policy(conn))
    return found[0] if found else None


def notice_data(conn: Connection, case_id: int, kind: str, *, base_url: str | None = None,
                escalation_id: int | None = None, upload_dir: Path | None = None,
                now: datetime | None = None) -> dict:
    """Everything a notice of `kind` prints for a case (NotFoundError for an unknown case or 督办单)."""
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", where="kind")
    now = now or datetime.now(zone())
    case = case_ops.get_case(conn, case_id, now=now)
    sketch = _sketch_unit(conn, case["routing"]["unit_id"])
    zone_at_report = (case["routing"]["at_report"] or {}).get("zone") or {}
    cat = case["category"]
    deadline = _handle_deadline(case)
    texts = load_notice_texts()
    data = {
        "kind": kind, "title": getattr(texts.titles, kind), "code": case["code"], "case_id": case["id"],
        "party": case["routing"]["party_name"] or (sketch or {}).get("name") or "责任单位（未登记）",
        "unit_name": (sketch or {}).get("name") or "",
        "place": _place(case, sketch),
        "found_at": for_people(datetime.fromisoformat(case["reported_at"]), DATE),
        "category": f"{cat.get('major_zh', '')} · {cat.get('zh', cat.get('code'))}".strip(" ·"),
        "description": case["description"],
        "duties": breached_duties(zone_at_report.get("policy"), cat.get("code", ""), case.get("inspection_item")),
        "policy": zone_at_report.get("policy") or "",
        "deadline": for_people(deadline, DATE) if deadline else "",
        "state_zh": case["state_zh"],
        "officer": case["routing"]["grid_officer"] or "",
        "grid_code": case["routing"]["grid_code"] or "",
        "department": case["routing"]["department"]["zh"] or "",
        "office": get_settings().notice_office,
        "issued_on": for_people(now, "%Y年%m月%d日"),
        "legal_basis": texts.legal_basis,
        "sketch": sketch,
        "photo": _first_photo(case, upload_dir),
        "url": None, "link_expires": "",
    }
    if kind in ("reminder", "rectification"):
        link = issue_link(conn, case_id, now=now)
        data["url"] = case_url(base_url or get_settings().public_base_url, link.token)
        data["link_expires"] = for_people(link.expires_at, "%Y年%m月%d日")
    else:
        data["escalation"] = _escalation(case, escalation_id, now)
    return data


def _escalation(case: Mapping, escalation_id: int | None, now: datetime) -> dict:
    """The 督办单 printed: the one asked for, else the latest; with its level, recipient and the new requirement."""
    rows = case["escalation_notices"]
    if not rows:
        raise NotFoundError(f"case {case['code']} has no 督办单 yet (it has not been overdue at a tick)",
                            where="escalation")
    row = next((r for r in rows if r["id"] == escalation_id), None) if escalation_id is not None else rows[-1]
    if row is None:
        raise NotFoundError(f"case {case['code']} has no 督办单 {escalation_id}", where="escalation")
    esc = load_escalation()
    levels = {lv.code: lv for lv in esc.levels}
    level = levels.get(row["level_code"])
    due = datetime.fromisoformat(row["due_at"])
    issued = datetime.fromisoformat(row["issued_at"])
    codes = [lv.code for lv in esc.levels]
    reach = dict((lv.code, at) for lv, at in esc.due(due, case["urgency"]))
    after = codes[codes.index(row["level_code"]) + 1:] if row["level_code"] in codes else []
    start = max(issued, now)
    if after:
        nxt = levels[after[0]]
        at = reach[nxt.code] if reach[nxt.code] > start else add_limit(start, "1 working_day")
        requirement = (f"请于{for_people(at, DATE)}前督促责任方整改到位并反馈结果；逾期未办结的，"
                       f"将提级为{nxt.zh}。")
    else:
        at = add_limit(start, "1 working_day")
        requirement = f"已督办至最高一级。请立即组织办理，并于{for_people(at, DATE)}前书面反馈办理结果。"
    stage_zh = case["deadlines"].get(row["stage"], {}).get("zh", row["stage"])
    return {"id": row["id"], "level": row["level"], "level_zh": level.zh if level else row["level_code"],
            "chain": " → ".join(lv.zh for lv in esc.levels), "to_whom": row["to_whom"], "stage_zh": stage_zh,
            "missed": for_people(due, DATE), "issued": for_people(issued, DATE),
            "overdue_by": _duration_zh(round((max(issued, now) - due).total_seconds() / 60)),
            "requirement": requirement}


# ---- drawing ----

class _Sketch(Flowable):
    """The zone sketch of board_pdf in a w x h box, its legend below."""

    def __init__(self, unit: Mapping | None, fonts: CjkFonts, w: float, h: float):
        super().__init__()
        self.unit, self.fonts, self.w, self.h = unit or {}, fonts, w, h

    def wrap(self, aw, ah):
        return self.w, self.h + 5 * mm

    def draw(self):
        _draw_sketch(self.canv, self.unit, self.fonts, 0, 5 * mm, self.w, self.h)
        if _geoms(self.unit):
            _sketch_caption(self.canv, self.unit, self.fonts, 0, 0.8 * mm)


class _Qr(Flowable):
    def __init__(self, url: str, size: float):
        super().__init__()
        self.url, self.size = url, size

    def wrap(self, aw, ah):
        return self.size, self.size

    def draw(self):
        _draw_qr(self.canv, qr_matrix(self.url), 0, 0, self.size)


class _Placeholder(Flowable):
    """A grey box with a centred line of text (no photo)."""

    def __init__(self, text: str, fonts: CjkFonts, w: float, h: float):
        super().__init__()
        self.text, self.fonts, self.w, self.h = text, fonts, w, h

    def wrap(self, aw, ah):
        return self.w, self.h

    def draw(self):
        c = self.canv
        c.setFillColor(colors.HexColor("#F4F5F7"))
        c.setStrokeColor(LIGHT)
        c.rect(0, 0, self.w, self.h, stroke=1, fill=1)
        c.setFillColor(GREY)
        c.setFont(self.fonts.regular, 9)
        c.drawCentredString(self.w / 2, self.h / 2, self.text)


def _photo(data: bytes | None, fonts: CjkFonts, w: float, h: float) -> Flowable:
    if not data:
        return _Placeholder("（无现场照片）", fonts, w, h)
    img = Image(io.BytesIO(data))
    scale = min(w / img.imageWidth, h / img.imageHeight)
    img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
    return img


class _Styles:
    def __init__(self, fonts: CjkFonts, base: float):
        def style(name, **kw):
            return ParagraphStyle(name, fontName=kw.pop("font", fonts.regular), fontSize=kw.pop("size", base),
                                  leading=kw.pop("leading", base * 1.5), textColor=kw.pop("color", INK),
                                  wordWrap="CJK", **kw)

        self.body = style("body")
        self.label = style("label", font=fonts.bold, color=GREY, size=base * 0.95)
        self.strong = style("strong", font=fonts.bold)
        self.deadline = style("deadline", font=fonts.bold, color=RED, size=base * 1.15, leading=base * 1.6)
        self.small = style("small", size=base * 0.82, leading=base * 1.2, color=GREY)
        self.to = style("to", font=fonts.bold, size=base * 1.2, leading=base * 1.7)
        self.title = style("title", font=fonts.bold, size=base * 2.0, leading=base * 2.4, color=colors.white)
        self.number = style("number", font=fonts.bold, size=base, color=colors.white, alignment=2)
        self.office = style("office", alignment=2, leading=base * 1.7)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _facts_table(rows: list[tuple[str, Flowable]], width: float, s: _Styles, base: float) -> Table:
    label_w = base * 6.2
    t = Table([[_p(k, s.label), v] for k, v in rows], colWidths=[label_w, width - label_w])
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, LIGHT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F4F5F7")),
        ("TOPPADDING", (0, 0), (-1, -1), base * 0.3), ("BOTTOMPADDING", (0, 0), (-1, -1), base * 0.35),
        ("LEFTPADDING", (0, 0), (-1, -1), base * 0.5), ("RIGHTPADDING", (0, 0), (-1, -1), base * 0.5)]))
    return t


def _duties_flow(duties: list[dict], s: _Styles) -> list[Flowable]:
    if not duties:
        return [_p("门前责任区责任（责任书约定）", s.body)]
    return [Paragraph(f"<b>{escape(d['zh'])}</b>：{escape(d['description_zh'] or d['zh'])}", s.body) for d in duties]


def _header(n: dict, width: float, s: _Styles, base: float) -> Table:
    t = Table([[_p(n["title"], s.title), _p(f"编号 No. {n['code']}", s.number)]],
              colWidths=[width * 0.62, width * 0.38])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), RED), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("TOPPADDING", (0, 0), (-1, -1), base * 0.6), ("BOTTOMPADDING", (0, 0), (-1, -1), base * 0.8),
                           ("LEFTPADDING", (0, 0), (-1, -1), base * 0.9), ("RIGHTPADDING", (0, 0), (-1, -1), base * 0.9)]))
    return t


def _figures(n: dict, fonts: CjkFonts, width: float, s: _Styles, base: float, height: float) -> Table:
    """The sketch and the photo side by side, with their captions."""
    gap = 4 * mm
    w = (width - gap) / 2
    t = Table([[_p("责任区示意图", s.label), "", _p("现场照片", s.label)],
               [_Sketch(n["sketch"], fonts, w, height), "", _photo(n["photo"], fonts, w, height + 5 * mm)]],
              colWidths=[w, gap, w])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (2, 1), (2, 1), "CENTER"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return t


def _qr_block(n: dict, width: float, s: _Styles, base: float, size: float) -> Table:
    lines = [_p("扫码查看本案并反馈整改", s.strong),
             _p("整改完成后，扫描二维码上传整改后的照片，即可提交核查；也可联系所在网格的网格员"
                + (f"（{n['officer']}）" if n["officer"] else "") + "。", s.body),
             _p(f"链接仅用于本案，有效期至{n['link_expires']}。", s.small),
             _p(n["url"].split("://", 1)[-1], s.small)]
    t = Table([[_Qr(n["url"], size), lines]], colWidths=[size + 4 * mm, width - size - 4 * mm])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("BOX", (0, 0), (-1, -1), 0.5, LIGHT), ("LEFTPADDING", (1, 0), (1, 0), base * 0.6),
                           ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return t


def _signatures(labels: list[str], width: float, s: _Styles, base: float) -> Table:
    cells = [[_p(f"{label}（签字）：", s.body), _p("日期：" + "\u00a0" * 10 + "年" + "\u00a0" * 5 + "月" + "\u00a0" * 5 + "日", s.body)] for label in labels]
    t = Table(cells, colWidths=[width * 0.55, width * 0.45], rowHeights=[base * 3.2] * len(labels))
    t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, INK), ("INNERGRID", (0, 0), (-1, -1), 0.4, LIGHT),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def _story(n: dict, fonts: CjkFonts, width: float, height: float, base: float, scale: float = 1.0) -> list:
    base *= scale
    s = _Styles(fonts, base)
    sp = base * 0.6
    story: list = [_header(n, width, s, base), Spacer(1, sp)]
    kind = n["kind"]
    fig_h = height * 0.25 * scale
    if kind == "escalation":
        e = n["escalation"]
        story += [_p(f"{e['to_whom']}：", s.to),
                  _p(f"下列案件{e['stage_zh']}已超过时限，现按督办程序（{e['chain']}）予以{e['level_zh']}，"
                     "请督促落实。", s.body), Spacer(1, sp),
                  _facts_table([("案件编号", _p(n["code"], s.strong)),
                                ("督办级别", _p(f"第{e['level']}级 {e['level_zh']}", s.strong)),
                                ("督办对象", _p(e["to_whom"], s.body)),
                                ("责任单位", _p(n["party"], s.body)),
                                ("问题地点", _p(n["place"], s.body)),
                                ("问题类别", _p(n["category"], s.body)),
                                ("问题描述", _p(n["description"], s.body)),
                                ("当前状态", _p(f"{n['state_zh']}（{n['department']}）", s.body)),
                                ("超期环节", _p(e["stage_zh"], s.body)),
                                ("原定时限", _p(e["missed"], s.strong)),
                                ("已超期", _p(e["overdue_by"], s.deadline)),
                                ("督办要求", _p(e["requirement"], s.strong))], width, s, base),
                  Spacer(1, sp), _figures(n, fonts, width, s, base, fig_h), Spacer(1, sp),
                  _signatures(["督办对象签收"], width, s, base)]
    elif kind == "rectification":
        story += [_p(f"{n['party']}：", s.to),
                  _p("经巡查发现，你单位门前责任区内存在下列问题，未履行门前责任区（门前三包）责任。"
                     f"请于{n['deadline']}前整改到位。逾期未整改的，将依法依规处理，并记入门前责任"
                     "信用记录。", s.body), Spacer(1, sp),
                  _facts_table([("通知编号", _p(n["code"], s.strong)),
                                ("责任单位", _p(n["party"], s.body)),
                                ("地址", _p(n["place"], s.body)),
                                ("发现时间", _p(n["found_at"], s.body)),
                                ("问题类别", _p(n["category"], s.body)),
                                ("问题描述", _p(n["description"], s.body)),
                                ("违反的责任", _duties_flow(n["duties"], s)),
                                ("整改期限", _p(f"{n['deadline']} 前", s.deadline)),
                                ("依据", _p(n["legal_basis"], s.small))], width, s, base),
                  Spacer(1, sp), _figures(n, fonts, width, s, base, fig_h), Spacer(1, sp),
                  _qr_block(n, width, s, base, min(30 * mm, width * 0.2)), Spacer(1, sp),
                  _signatures(["当事人签收", "送达人"], width, s, base)]
    else:
        story += [_p(f"{n['party']}：", s.to),
                  _p("您好！网格员巡查时发现您门前责任区有以下情况，请您协助处理，共同维护街面整洁有序。"
                     "感谢您的支持与配合！", s.body), Spacer(1, sp),
                  _facts_table([("编号", _p(n["code"], s.strong)),
                                ("地点", _p(n["place"], s.body)),
                                ("发现时间", _p(n["found_at"], s.body)),
                                ("发现问题", _p(f"{n['description']}（{n['category']}）", s.body)),
                                ("门前责任", _duties_flow(n["duties"], s)),
                                ("温馨提示", _p(f"请在{n['deadline']}前处理好，处理后扫码上传照片即可。", s.deadline))],
                               width, s, base),
                  Spacer(1, sp), _figures(n, fonts, width, s, base, fig_h * 0.9), Spacer(1, sp),
                  _qr_block(n, width, s, base, min(30 * mm, width * 0.22))]
    story += [Spacer(1, sp * 1.5), _p(f"{n['office']}（盖章）", s.office), _p(n["issued_on"], s.office)]
    return story


def _fitted(n: dict, fonts: CjkFonts, width: float, height: float, base: float) -> list:
    """The story at the largest scale (of type and figures) whose height fits the page: tables and figures keep
    their widths, which KeepInFrame's shrinking would not (it reflows text wider than the tables)."""
    for step in range(12):
        scale = 1.0 - 0.05 * step
        story = _story(n, fonts, width, height, base, scale)
        used = sum(f.wrap(width, height)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in story)
        if used <= height * 0.985:
            return story
    return story


def _text_of(n: dict) -> str:
    """Every character the notice may draw (for the font subset)."""
    parts = [str(v) for k, v in n.items() if isinstance(v, str)]
    parts += [str(v) for d in n["duties"] for v in d.values()]
    parts += [str(v) for v in (n.get("escalation") or {}).values()]
    parts += [str((n["sketch"] or {}).get("street_name") or ""), "".join(load_notice_texts().titles.model_dump().values()),
              "责任区示意图现场照片无扫码查看本案并反馈整改完成后扫描二维码上传的照片即可提交核查也可联系所在网格员"
              "链接仅用于有效期至签字日期年月日当事人签收送达人督办对象盖章通知编号单位地址发现时间问题类别描述违反的"
              "责任整改期限前依据级别地点当前状态超期环节原定时限已要求门前温馨提示请在处理好后北建筑道路面积约²"]
    return " ".join(parts)


def notice_pdf(notice: dict, size: str = "A4") -> bytes:
    """One page of a notice (notice_data's dict) as PDF bytes, A4 or A5 portrait."""
    if size not in SIZES:
        raise InputError(f"size must be A4 or A5, got {size!r}", where="size")
    page = SIZES[size]
    margin = 14 * mm if size == "A4" else 9 * mm
    base = 10.5 if size == "A4" else 8.2
    width, height = page[0] - 2 * margin, page[1] - 2 * margin

    def render(fonts: CjkFonts) -> bytes:
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin,
                                bottomMargin=margin, title=f"{notice['title']} {notice['code']}", author="gridsvc",
                                invariant=1, initialFontName=fonts.regular)
        doc.build([KeepInFrame(width, height, _fitted(notice, fonts, width, height, base), mode="shrink")])
        return buf.getvalue()

    return render_with_cjk(_text_of(notice), render)


def case_notice(conn: Connection, case_id: int, kind: str, *, size: str = "A4", base_url: str | None = None,
                escalation_id: int | None = None, upload_dir: Path | None = None,
                now: datetime | None = None) -> bytes:
    """The PDF of a notice of a case (see the module docstring)."""
    if size not in SIZES:
        raise InputError(f"size must be A4 or A5, got {size!r}", where="size")
    return notice_pdf(notice_data(conn, case_id, kind, base_url=base_url, escalation_id=escalation_id,
                                  upload_dir=upload_dir, now=now), size)


def case_id_by_code(conn: Connection, code: str) -> int:
    """A case's id from its code (2026120200001) or id; NotFoundError otherwise."""
    text = (code or "").strip()
    found = conn.execute(sql("case_id_by_code"), {"c": text}).scalar() if text else None
    if found is None and text.isdigit() and len(text) <= 12:
        found = conn.execute(sql("case_link_row"), {"i": int(text)}).scalar()
    if found is None:
        raise NotFoundError(f"no case {code!r} (give its code, e.g. 2026120200001, or its id)", where="case")
    return int(found)
