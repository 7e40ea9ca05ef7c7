"""The bulletin as a Chinese PDF (A4 landscape, Noto CJK embedded): the district's figures, a ranking table per
level (街道, 社区, 网格, 部门, 道路: 末位 shaded, missed targets in red), the trend chart, the H3 heat map of the
cases on the district's outline, and every definition the bulletin used."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..ops.rules.bulletins import load_bulletins
from .bulletin_charts import heat_shapes, to_drawing, trend_shapes
from .bulletin_table import cell, columns, missed_cell, printed_rows, shown
from .pdf_fonts import CjkFonts, render_with_cjk

MARGIN = 10 * mm
INK = colors.HexColor("#263238")
HEAD = colors.HexColor("#ECEFF1")
LAST = colors.HexColor("#FFE0B2")
MISSED = colors.HexColor("#B71C1C")


def summary_lines(fig: dict) -> list[str]:
    """The district's figures in sentences (PDF and HTML)."""
    t = fig["total"]
    c, r = t["counts"], t["rates"]
    d = {i["code"]: i for i in fig["definitions"]["indicators"]}
    rates = "，".join(f"{d[k]['zh']} {shown(v)}%" + ("" if t["targets"].get(k) is None else
                                                     "（达标）" if t["targets"][k] else f"（未达目标 {d[k]['target']}）")
                     for k, v in r.items())
    insp = t["inspections"]
    b, s = t["boards"], t["stars"]
    return [
        f"本期发现案件 {c['found']} 件，立案 {c['registered']} 件，结案 {c['closed']} 件（按期 {c['closed_on_time']} 件），"
        f"应结案 {c['due']} 件；超期 {c['overdue']} 件，返工 {c['rework']} 次，督办 {c['escalated']} 件，"
        f"期末挂账 {c['deferred']} 件。",
        rates + "。",
        f"巡查完成 {insp['done']} 次，计划 {insp['planned']} 次，完成率 {shown(insp['rate'])}%。"
        f"红榜 {b['red']} 户、黄榜 {b['yellow']} 户、黑榜 {b['black']} 户、未评 {b['none']} 户；"
        f"星级商户 5星 {s['5']}、4星 {s['4']}、3星 {s['3']}、2星 {s['2']}、1星 {s['1']}、无星 {s['0']} 户。",
    ]


def definition_lines(fig: dict) -> list[tuple[str, str]]:
    d = fig["definitions"]
    out = [("统计口径", d["exclusions"])]
    out += [(c["zh"], c["meaning"]) for c in d["counts"]]
    out += [(i["zh"], i["formula"] + (f"；目标 {i['target']}" if i["target"] else "")) for i in d["indicators"]]
    ins = d["inspections"]
    out.append((ins["zh"], ins["formula"] + (f"；目标 {ins['target']}" if ins["target"] else "")))
    out += [("排名", d["ranking"]["text"]), ("末位", d["last_places_text"]), ("红黄黑榜", d["boards"]),
            ("星级", d["stars"]), ("道路", d["street"])]
    return out


def _all_text(fig: dict, outline: dict) -> str:
    import json
    return json.dumps(fig, ensure_ascii=False) + "".join(a + b for a, b in definition_lines(fig)) + \
        "".join(summary_lines(fig)) + "一二三四五六七八九十、全区街道社区网格部门道路排名走势热力图定义说明本期未落无共个完整名单见工作簿"


def _table(fig: dict, level: dict, fonts: CjkFonts, width: float, limit: int | None) -> Table:
    cols = columns(fig, compact=True)
    st = ParagraphStyle("h", fontName=fonts.bold, fontSize=6.3, leading=7.5, alignment=1, wordWrap="CJK")
    body = ParagraphStyle("b", fontName=fonts.regular, fontSize=6.5, leading=8, wordWrap="CJK")
    data = [[Paragraph(escape(c.zh), st) for c in cols]]
    style = [("FONT", (0, 0), (-1, -1), fonts.regular, 6.5), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
             ("BACKGROUND", (0, 0), (-1, 0), HEAD), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("ALIGN", (2, 1), (-1, -1), "CENTER"), ("LEFTPADDING", (0, 0), (-1, -1), 1.5),
             ("RIGHTPADDING", (0, 0), (-1, -1), 1.5), ("TOPPADDING", (0, 0), (-1, -1), 1.2),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2)]
    rows = printed_rows(level, limit)
    for i, row in enumerate(rows, 1):
        line = []
        for j, col in enumerate(cols):
            v = shown(cell(row, col, fig, True))
            line.append(Paragraph(escape(v), body) if col.key in ("name", "missed") else v)
            if missed_cell(row, col):
                style.append(("TEXTCOLOR", (j, i), (j, i), MISSED))
                style.append(("FONT", (j, i), (j, i), fonts.bold, 6.5))
        data.append(line)
        if row["last_place"]:
            style.append(("BACKGROUND", (0, i), (-1, i), LAST))
    widths = {"rank": 8 * mm, "name": 30 * mm, "boards": 16 * mm, "stars": 19 * mm, "missed": 28 * mm,
              "insp:both": 13 * mm, "last": 8 * mm}
    fixed = sum(widths.get(c.key, 0) for c in cols)
    rest = [c for c in cols if c.key not in widths]
    each = (width - fixed) / len(rest)
    return Table(data, colWidths=[widths.get(c.key, each) for c in cols], repeatRows=1, style=TableStyle(style))


def bulletin_pdf(fig: dict, outline: dict) -> bytes:
    rules = load_bulletins()

    def render(fonts: CjkFonts) -> bytes:
        buf = io.BytesIO()
        page = landscape(A4)
        width = page[0] - 2 * MARGIN
        title = ParagraphStyle("t", fontName=fonts.bold, fontSize=16, leading=22, alignment=1, textColor=INK)
        h2 = ParagraphStyle("h2", fontName=fonts.bold, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3,
                            textColor=INK)
        p = ParagraphStyle("p", fontName=fonts.regular, fontSize=8.5, leading=12, textColor=INK, wordWrap="CJK")
        small = ParagraphStyle("s", fontName=fonts.regular, fontSize=7.5, leading=10, textColor=INK, wordWrap="CJK")
        story = [Paragraph(escape(f"{fig.get('district') or ''}城市管理{fig['kind_zh']}".strip()), title),
                 Paragraph(escape(f"{fig['period_zh']}（{fig['start'][:10]} 至 {fig['end'][:10]}，北京时间，含起不含止）"),
                           ParagraphStyle("c", parent=p, alignment=1)),
                 Spacer(1, 4), Paragraph("一、总体情况", h2)]
        story += [Paragraph(escape(s), p) for s in summary_lines(fig)]
        numbers = "二三四五六七八九"
        for i, level in enumerate(fig["levels"]):
            limit = rules.print.rows.get(level["level"])
            rows = level["rows"]
            shown_rows = printed_rows(level, limit)
            head = f"{numbers[i]}、{level['zh']}排名"
            if len(shown_rows) < len(rows):
                head += f"（共 {len(rows)} 个，列出前 {limit} 名、末位及未排名者；完整名单见工作簿）"
            story += [Paragraph(escape(head), h2), _table(fig, level, fonts, width, limit)]
        n = len(fig["levels"])
        if fig.get("trend"):
            tr = trend_shapes(fig["trend"], 520, 230)
            story += [KeepTogether([Paragraph(f"{numbers[n]}、{escape(fig['trend']['indicator_zh'])}走势", h2),
                                    to_drawing(tr, 520, 230, fonts.regular)])]
        hm = heat_shapes(fig["heat_map"], outline.get("district"), outline.get("subdistricts", []), 560, 330)
        story += [KeepTogether([Paragraph(f"{numbers[n + 1]}、案件热力图（H3）", h2), to_drawing(hm, 560, 330,
                                                                                       fonts.regular)])]
        story.append(Paragraph(f"{numbers[n + 2]}、指标定义", h2))
        story += [Paragraph(f"<b>{escape(k)}</b>：{escape(v)}", small) for k, v in definition_lines(fig)]
        story.append(Paragraph(escape(f"计算时间 {fig['computed_at']}"), small))

        def footer(canvas, doc):
            canvas.saveState()
            canvas.setFont(fonts.regular, 7)
            canvas.drawRightString(page[0] - MARGIN, 6 * mm, f"第 {doc.page} 页")
            canvas.drawString(MARGIN, 6 * mm, f"{fig['period_zh']} {fig['kind_zh']}")
            canvas.restoreState()

        doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                bottomMargin=12 * mm, title=f"{fig['period']} {fig['kind_zh']}", author="gridsvc",
                                initialFontName=fonts.regular)
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        return buf.getvalue()

    return render_with_cjk(_all_text(fig, outline), render)
