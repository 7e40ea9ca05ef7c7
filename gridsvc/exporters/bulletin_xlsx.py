"""The bulletin as an XLSX workbook (XlsxWriter): 说明 (the period and the district's figures), 定义 (every definition
the bulletin used), a sheet per level (街道, 社区, 网格, 部门, 道路) with every row, the missed targets in red and the
末位 rows shaded, a column chart of the first indicator by 街道, and 趋势 with a line chart of the last periods."""

from __future__ import annotations

import io

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from .bulletin_table import cell, columns

SHEETS = {"subdistrict": "街道", "community": "社区", "grid": "网格", "department": "部门", "street": "道路"}


def bulletin_xlsx(fig: dict) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#ECEFF1", "border": 1, "text_wrap": True, "valign": "vcenter"})
    num = wb.add_format({"border": 1})
    pct = wb.add_format({"border": 1, "num_format": "0.0"})
    text = wb.add_format({"border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    red = wb.add_format({"bg_color": "#FFCDD2", "font_color": "#B71C1C"})
    last = wb.add_format({"bg_color": "#FFE0B2"})
    head_line = f"{fig.get('district') or ''} {fig['period_zh']} {fig['kind_zh']}".strip()

    # 说明: the district's figures
    ws = wb.add_worksheet("说明")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 60)
    ws.write(0, 0, head_line, title)
    ws.write(1, 0, "统计期间")
    ws.write(1, 1, f"{fig['start']} — {fig['end']}（北京时间，含起不含止）")
    ws.write(2, 0, "计算时间")
    ws.write(2, 1, fig["computed_at"])
    r = 4
    ws.write(r, 0, "全区", bold)
    total_cols = columns(fig, compact=False)[3:]
    for col in total_cols:
        if col.key in ("last", "missed"):
            continue
        r += 1
        ws.write(r, 0, col.zh)
        v = cell(fig["total"], col, fig, False)
        ws.write(r, 1, "—" if v is None else v)
    ws.write(r + 2, 0, "定义见“定义”工作表；各级明细见对应工作表。")

    # 定义
    wd = wb.add_worksheet("定义")
    wd.set_column(0, 0, 16)
    wd.set_column(1, 1, 100)
    d = fig["definitions"]
    lines = [("统计口径", d["exclusions"])]
    lines += [(c["zh"], c["meaning"]) for c in d["counts"]]
    lines += [(i["zh"], i["formula"] + (f"；目标 {i['target']}" if i["target"] else "")) for i in d["indicators"]]
    ins = d["inspections"]
    lines += [(ins["zh"], ins["formula"] + (f"；目标 {ins['target']}" if ins["target"] else ""))]
    lines += [("排名", d["ranking"]["text"]), ("末位", d["last_places_text"]), ("红黄黑榜", d["boards"]),
              ("星级", d["stars"]), ("道路", d["street"])]
    wd.write_row(0, 0, ["名称", "定义"], head)
    for i, (k, v) in enumerate(lines, 1):
        wd.write(i, 0, k, bold)
        wd.write(i, 1, v, wrap)

    # a sheet per level
    cols = columns(fig, compact=False)
    first = d["indicators"][0]
    for level in fig["levels"]:
        ws = wb.add_worksheet(SHEETS[level["level"]])
        ws.freeze_panes(1, 2)
        ws.set_row(0, 32)
        for j, col in enumerate(cols):
            ws.write(0, j, col.zh, head)
            ws.set_column(j, j, 18 if col.key in ("name", "parent") else 14 if col.key == "missed" else 8)
        rows = level["rows"]
        for i, row in enumerate(rows, 1):
            for j, col in enumerate(cols):
                v = cell(row, col, fig, False)
                if v is None:
                    ws.write_blank(i, j, None, num)
                elif isinstance(v, float) or col.key.startswith("rate:") or col.key == "insp:rate":
                    ws.write_number(i, j, v, pct)
                elif isinstance(v, int):
                    ws.write_number(i, j, v, num)
                else:
                    ws.write_string(i, j, v, text)
        n = len(rows)
        if n:
            last_col = next(j for j, c in enumerate(cols) if c.key == "last")
            flag = xl_rowcol_to_cell(1, last_col, col_abs=True)
            ws.conditional_format(1, 0, n, len(cols) - 1, {"type": "formula", "criteria": f'={flag}="末位"',
                                                            "format": last})
            for j, col in enumerate(cols):
                if col.target is None:
                    continue
                op, value = col.target
                ref = xl_rowcol_to_cell(1, j)
                bad = {">=": "<", ">": "<=", "<=": ">", "<": ">="}[op]
                ws.conditional_format(1, j, n, j, {"type": "formula", "criteria": f"=AND(ISNUMBER({ref}),{ref}{bad}{value:g})",
                                                   "format": red})
        if level["level"] == "subdistrict" and n:
            j = next(j for j, c in enumerate(cols) if c.key == f"rate:{first['code']}")
            ranked = [i for i, row in enumerate(rows, 1) if row["rank"] is not None]
            if ranked:
                chart = wb.add_chart({"type": "column"})
                sheet = SHEETS["subdistrict"]
                chart.add_series({"name": f"{first['zh']}(%)",
                                  "categories": [sheet, 1, 1, ranked[-1], 1],
                                  "values": [sheet, 1, j, ranked[-1], j],
                                  "data_labels": {"value": True}, "fill": {"color": "#1565C0"}})
                chart.set_title({"name": f"各街道{first['zh']}（{fig['period_zh']}）"})
                chart.set_y_axis({"min": 0, "max": 100, "name": "%"})
                chart.set_legend({"none": True})
                ws.insert_chart(n + 3, 1, chart, {"x_scale": 1.4, "y_scale": 1.2})

    # 趋势
    tr = fig.get("trend")
    if tr:
        wt = wb.add_worksheet("趋势")
        wt.set_column(0, 0, 14)
        names = ["全区", *[s["name"] for s in tr["subdistricts"]]]
        wt.write_row(0, 0, ["期间", *[f"{n} {tr['indicator_zh']}(%)" for n in names], "全区发现数"], head)
        for i, p in enumerate(tr["periods"], 1):
            wt.write_string(i, 0, p)
            values = [tr["total"][tr["indicator"]][i - 1], *[s["values"][i - 1] for s in tr["subdistricts"]]]
            for j, v in enumerate(values, 1):
                if v is None:
                    wt.write_blank(i, j, None)
                else:
                    wt.write_number(i, j, v, pct)
            wt.write_number(i, len(values) + 1, tr["found"][i - 1])
        chart = wb.add_chart({"type": "line"})
        last_row = len(tr["periods"])
        for j, name in enumerate(names, 1):
            chart.add_series({"name": name, "categories": ["趋势", 1, 0, last_row, 0],
                              "values": ["趋势", 1, j, last_row, j], "marker": {"type": "circle"},
                              "line": {"width": 2.5 if j == 1 else 1.25}})
        chart.show_blanks_as("gap")
        chart.set_title({"name": f"{tr['indicator_zh']}走势（近 {last_row} 期）"})
        chart.set_y_axis({"min": 0, "max": 100, "name": "%"})
        wt.insert_chart(last_row + 3, 0, chart, {"x_scale": 1.5, "y_scale": 1.2})
    wb.close()
    return out.getvalue()
