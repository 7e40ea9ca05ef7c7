"""The bulletin as one self-contained HTML page (Chinese; no scripts, no CDN, no fonts fetched): the district's
figures, the ranking tables (末位 shaded, missed targets in red; tables scroll sideways on a phone), the trend chart
and the H3 heat map as inline SVG, and the definitions."""

from __future__ import annotations

from html import escape

from ..ops.rules.bulletins import load_bulletins
from .bulletin_charts import heat_shapes, to_svg, trend_shapes
from .bulletin_pdf import definition_lines, summary_lines
from .bulletin_table import cell, columns, missed_cell, printed_rows, shown

CSS = """
:root{--ink:#263238;--muted:#607d8b;--line:#cfd8dc;--head:#eceff1;--last:#ffe0b2;--bad:#b71c1c}
*{box-sizing:border-box}
body{margin:0;font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--ink);
background:#fafafa;line-height:1.6}
main{max-width:1280px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;text-align:center;margin:.4em 0 0}
.period{text-align:center;color:var(--muted);margin:0 0 1em}
h2{font-size:1.1rem;border-left:4px solid #1565c0;padding-left:8px;margin:1.6em 0 .6em}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.8rem;white-space:nowrap;width:100%}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:center}
th{background:var(--head);position:sticky;top:0}
td.name{text-align:left;white-space:normal;min-width:7em;position:sticky;left:0;background:#fff}
th:nth-child(2){position:sticky;left:0;z-index:1}
td.note{text-align:left;white-space:normal;min-width:16em}
tr.last td{background:var(--last)}
figure{margin:0}
td.miss{color:var(--bad);font-weight:bold}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.note{color:var(--muted);font-size:.85rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:.85rem;margin:0}
dt{font-weight:bold}
dd{margin:0}
@media (max-width:720px){main{padding:8px}.charts{grid-template-columns:1fr}dl{grid-template-columns:1fr}
dd{margin-bottom:6px}h1{font-size:1.2rem}}
"""


def _table(fig: dict, level: dict, limit: int | None) -> str:
    cols = columns(fig, compact=True)
    head = "".join(f"<th>{escape(c.zh)}</th>" for c in cols)
    body = []
    for row in printed_rows(level, limit):
        cells = []
        for col in cols:
            cls = " ".join(x for x in ({"name": "name", "missed": "note"}.get(col.key, ""),
                                       "miss" if missed_cell(row, col) else "") if x)
            attr = f' class="{cls}"' if cls else ""
            cells.append(f"<td{attr}>{escape(shown(cell(row, col, fig, True)))}</td>")
        attr = ' class="last"' if row["last_place"] else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table data-level="{escape(level["level"])}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def bulletin_html(fig: dict, outline: dict) -> str:
    rules = load_bulletins()
    title = f"{fig.get('district') or ''}城市管理{fig['kind_zh']}".strip()
    parts = [f"<h1>{escape(title)}</h1>",
             f'<p class="period">{escape(fig["period_zh"])}（{escape(fig["start"][:10])} 至 {escape(fig["end"][:10])}，'
             "北京时间，含起不含止）</p>",
             "<h2>一、总体情况</h2><section>" + "".join(f"<p>{escape(s)}</p>" for s in summary_lines(fig)) + "</section>"]
    numbers = "二三四五六七八九"
    for i, level in enumerate(fig["levels"]):
        limit = rules.print.rows.get(level["level"])
        head = f"{numbers[i]}、{level['zh']}排名"
        note = ""
        if len(printed_rows(level, limit)) < len(level["rows"]):
            note = (f'<p class="note">共 {len(level["rows"])} 个，列出前 {limit} 名、末位及未排名者；完整名单见工作簿（XLSX）。'
                    "</p>")
        parts.append(f"<h2>{escape(head)}</h2><section>{note}{_table(fig, level, limit)}</section>")
    n = len(fig["levels"])
    charts = []
    if fig.get("trend"):
        charts.append(f"<figure>{to_svg(trend_shapes(fig['trend']), 520, 230, fig['trend']['indicator_zh'] + '走势')}"
                      "</figure>")
    charts.append("<figure>" + to_svg(heat_shapes(fig["heat_map"], outline.get("district"),
                                                  outline.get("subdistricts", [])), 520, 360, "案件热力图") + "</figure>")
    parts.append(f"<h2>{numbers[n]}、走势与案件热力图（H3）</h2><section class=\"charts\">{''.join(charts)}</section>")
    parts.append(f"<h2>{numbers[n + 1]}、指标定义</h2><section><dl>"
                 + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in definition_lines(fig))
                 + f"</dl><p class=\"note\">计算时间 {escape(fig['computed_at'])}</p></section>")
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)} {escape(fig['period'])}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>")
