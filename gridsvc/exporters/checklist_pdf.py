"""Printable A4 walk-through checklist of a grid (网格巡查清单): one row per unit, a box per duty."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..errors import InputError, MissingColumnsError
from ..ops.rules.ratings import load_ratings, rating_label
from ..timekeeping import today
from .pdf_fonts import CjkFonts, render_with_cjk

INK = colors.HexColor("#1F2D3D")
RULE = colors.HexColor("#9AA5B1")
HEAD_BG = colors.HexColor("#E3EAF2")
ZEBRA = colors.HexColor("#F6F8FA")
MARGIN = 12 * mm
HEADER_H = 22 * mm
FOOTER_H = 10 * mm
LEGEND = "检查结果：达标在方框内打 √，不达标打 × 并在备注栏写明问题。评级：{boards}，{unrated} = 尚无评级。"
# Fixed words of the page furniture (so that the font subset has them from the start).
LABELS = "网格编码社区网格员巡查日期政策序号单位名称地址当前评级备注共户第页打印"  # + the ratings' labels
SIGNATURE = "网格员签字：__________________　　检查日期：______年____月____日　　复核人：__________________"


def normalise_duties(policy_duties) -> tuple[list[dict], str]:
    """Duties as dicts (code, zh, en, description_zh, description) and the policy name, from a Policy or a list
    of duties."""
    name = getattr(policy_duties, "name", "") or ""
    items = getattr(policy_duties, "duties", policy_duties)
    if isinstance(items, Mapping) or not isinstance(items, Sequence) or not items:
        raise InputError("policy_duties must be a Policy or a non-empty list of duties", source="policy_duties")
    duties = []
    for i, d in enumerate(items):
        get = d.get if isinstance(d, Mapping) else (lambda k, _d=d: getattr(_d, k, None))
        duty = {k: str(get(k) or "") for k in ("code", "zh", "en", "description_zh", "description")}
        if not duty["zh"]:
            raise InputError("duty has no zh label", source="policy_duties", where=f"duty {i}")
        duty["code"] = duty["code"] or f"duty{i + 1}"
        duties.append(duty)
    return duties, name


def policy_family(policy) -> str:
    """The 门前N包 family ('三包', '五包') of a policy, from its label, name or parent; '' if none."""
    match = re.search(r"门前([三四五六七]包)", str(getattr(policy, "label", "") or ""))
    if match:
        return match.group(1)
    for value in (getattr(policy, "name", None), getattr(policy, "inherits", None)):
        if isinstance(value, str) and re.fullmatch(r"[三四五六七]包", value):
            return value
    return ""


def officer_parts(officer) -> tuple[str, str]:
    """(name, phone) of a grid officer given as a mapping (name, phone), a (name, phone) pair or a name."""
    if officer is None:
        return "", ""
    if isinstance(officer, Mapping):
        return str(officer.get("name") or ""), str(officer.get("phone") or "")
    if isinstance(officer, tuple | list):
        parts = [str(p or "") for p in officer] + ["", ""]
        return parts[0], parts[1]
    return str(officer), ""


def _rows(rows) -> list[dict]:
    """Rows as dicts with seq, name, address, rating (printed label)."""
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else [dict(r) for r in rows]
    out = []
    for i, r in enumerate(records):
        name = r.get("name")
        if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
            raise MissingColumnsError("row has no 'name'", source="rows", where=f"row {i + 1}")
        address = r.get("address")
        if address is None or (isinstance(address, float) and math.isnan(address)):
            address = r.get("street_name")
        address = "" if address is None or (isinstance(address, float) and math.isnan(address)) else address
        seq = r.get("seq")
        seq = i + 1 if seq is None or (isinstance(seq, float) and math.isnan(seq)) else seq
        out.append({"seq": str(int(seq)) if isinstance(seq, int | float) else str(seq), "name": str(name).strip(),
                    "address": str(address), "rating": rating_label(r.get("rating"), where=f"row {i + 1}")})
    return out


class CheckBox(Flowable):
    """An empty square to tick by hand."""

    def __init__(self, size: float = 4.2 * mm):
        super().__init__()
        self.size = size

    def wrap(self, avail_width, avail_height):
        return self.size, self.size

    def draw(self):
        self.canv.setStrokeColor(INK)
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.size, self.size, stroke=1, fill=0)


def _styles(fonts: CjkFonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=fonts.regular, fontSize=9, leading=12, textColor=INK, wordWrap="CJK")
    return {
        "cell": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=base, fontName=fonts.bold, fontSize=9, leading=11.5,
                               alignment=TA_CENTER),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#3E4C59")),
        "summary": ParagraphStyle("summary", parent=base, fontName=fonts.bold, fontSize=10, leading=14),
    }


def _duty_width(label: str, font: str) -> float:
    """Column width for a duty: its label on one line, or on two when long."""
    w = stringWidth(label, font, 9) + 4 * mm
    return max(13 * mm, w if w <= 22 * mm else w / 2 + 3 * mm)


def _layout(duties: list[dict], fonts: CjkFonts) -> tuple[tuple[float, float], list[float]]:
    """Page size and column widths: portrait A4 unless the duty columns leave too little room."""
    duty_w = [_duty_width(d["zh"], fonts.bold) for d in duties]
    seq_w, rating_w, notes_w = 10 * mm, 16 * mm, 34 * mm
    page = A4
    room = A4[0] - 2 * MARGIN - seq_w - rating_w - sum(duty_w) - notes_w
    if room < 70 * mm:
        page = landscape(A4)
        room = page[0] - 2 * MARGIN - seq_w - rating_w - sum(duty_w) - notes_w
        notes_w += max(0.0, room - 150 * mm)  # more room to write rather than wider names
        room = min(room, 150 * mm)
    return page, [seq_w, room * 0.55, room * 0.45, rating_w, *duty_w, notes_w]


def _table(rows: list[dict], duties: list[dict], widths: list[float], st: dict) -> Table:
    """The checklist table; its header row repeats on every page."""
    head = [Paragraph(t, st["head"]) for t in ("序号", "单位名称", "地址", "当前评级")]
    head += [Paragraph(escape(d["zh"]), st["head"]) for d in duties] + [Paragraph("备注", st["head"])]
    data = [head]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("BOX", (0, 0), (-1, -1), 1.0, INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("LINEBELOW", (0, 0), (-1, 0), 1.0, INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("TOPPADDING", (0, 1), (-1, -1), 7),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 7),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    signs = {s.label: s for s in load_ratings().signs.values()}
    unrated = load_ratings().unrated.label
    for i, r in enumerate(rows, start=1):
        fg, bg = signs[r["rating"]].ink, signs[r["rating"]].tint
        rating = Paragraph(f'<font color="{fg}"><b>{r["rating"]}</b></font>' if r["rating"] != unrated
                           else f'<font color="{fg}">{r["rating"]}</font>', st["center"])
        data.append([Paragraph(escape(r["seq"]), st["center"]), Paragraph(escape(r["name"]), st["cell"]),
                     Paragraph(escape(r["address"]), st["small"]), rating,
                     *[CheckBox() for _ in duties], ""])
        if i % 2 == 0:
            style.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
        if bg:
            style.append(("BACKGROUND", (3, i), (3, i), colors.HexColor(bg)))
    return Table(data, colWidths=widths, repeatRows=1, style=TableStyle(style), hAlign="CENTER")


def _summary(rows: list[dict]) -> str:
    labels = [s.label for s in load_ratings().signs.values()]  # 红牌 黄牌 黑牌 未评
    counts = {label: sum(r["rating"] == label for r in rows) for label in labels}
    return f"共 {len(rows)} 户　　" + "　".join(f"{k} {v}" for k, v in counts.items())


def _legend() -> str:
    ratings = load_ratings()
    return LEGEND.format(boards=" / ".join(s.label for s in ratings.rated_signs().values()),
                         unrated=ratings.unrated.label)


def _page_furniture(info: dict, fonts: CjkFonts, total: list[int]):
    """onPage callback drawing the header (grid, community, officer, date, policy) and the page number."""

    def draw(canvas, doc):
        w, h = doc.pagesize
        canvas.saveState()
        top = h - MARGIN
        canvas.setFillColor(INK)
        canvas.setFont(fonts.bold, 15)
        canvas.drawString(MARGIN, top - 15, info["title"])
        canvas.setFont(fonts.regular, 9)
        canvas.drawRightString(w - MARGIN, top - 13, f"政策：{info['policy']}")
        lines = [f"网格编码：{info['grid_code']}　　社区：{info['community']}",
                 f"网格员：{info['officer']}　　巡查日期：{info['date']}"]
        for i, line in enumerate(lines):
            canvas.drawString(MARGIN, top - 30 - 12 * i, line)
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, h - MARGIN - HEADER_H + 2 * mm, w - MARGIN, h - MARGIN - HEADER_H + 2 * mm)
        canvas.setLineWidth(0.5)
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, MARGIN + FOOTER_H - 3 * mm, w - MARGIN, MARGIN + FOOTER_H - 3 * mm)
        canvas.setFont(fonts.regular, 8.5)
        canvas.setFillColor(colors.HexColor("#3E4C59"))
        canvas.drawString(MARGIN, MARGIN + 1 * mm, f"网格 {info['grid_code']} · {info['community']}")
        canvas.drawCentredString(w / 2, MARGIN + 1 * mm, f"第 {doc.page} 页 / 共 {total[0] or doc.page} 页")
        canvas.drawRightString(w - MARGIN, MARGIN + 1 * mm, f"打印日期 {info['date']}")
        canvas.restoreState()

    return draw


def checklist_pdf(rows, *, grid_code: str, community: str, officer, policy_duties, out: Path,
                  date: dt.date | str | None = None, policy_name: str | None = None,
                  title: str = "网格巡查清单") -> Path:
    """Write the walk-through checklist of a grid (rows in walking order) as an A4 PDF; returns out."""
    duties, name_from_policy = normalise_duties(policy_duties)
    items = _rows(rows)
    officer_name, officer_phone = officer_parts(officer)
    when = date.isoformat() if isinstance(date, dt.date) else str(date or today().isoformat())
    family = policy_family(policy_duties)
    policy = policy_name or name_from_policy or family or "、".join(d["zh"] for d in duties)
    if family and policy != family:
        policy = f"{policy}（{family}）"
    info = {"title": f"{title}（门前{family}）" if family else title,
            "grid_code": str(grid_code), "community": str(community), "date": when, "policy": policy,
            "officer": f"{officer_name}（{officer_phone}）" if officer_phone else officer_name}
    text = " ".join([*info.values(), LABELS, _legend(), _summary(items), SIGNATURE, *(d["zh"] for d in duties),
                     *(r[k] for r in items for k in ("seq", "name", "address", "rating"))])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def render(fonts: CjkFonts) -> Path:
        st = _styles(fonts)
        page, widths = _layout(duties, fonts)
        total = [0]

        def build(target) -> int:
            doc = SimpleDocTemplate(target, pagesize=page, leftMargin=MARGIN, rightMargin=MARGIN,
                                    topMargin=MARGIN + HEADER_H, bottomMargin=MARGIN + FOOTER_H,
                                    title=f"{info['title']} {grid_code}", author="gridsvc",
                                    subject=f"{community} {when}", invariant=1,
                                    initialFontName=fonts.regular)
            furniture = _page_furniture(info, fonts, total)
            story = [Paragraph(_summary(items), st["summary"]), Paragraph(_legend(), st["note"]),
                     Spacer(1, 3 * mm), _table(items, duties, widths, st), Spacer(1, 8 * mm),
                     Paragraph(SIGNATURE, st["cell"])]
            doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
            return doc.page

        total[0] = build(io.BytesIO())  # a first pass counts the pages for "共 M 页"
        build(str(out))
        return out

    return render_with_cjk(text, render)
