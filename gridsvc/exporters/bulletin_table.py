"""The bulletin's ranking table as columns and cells, shared by the XLSX, PDF and HTML writers (gridsvc/ops/bulletins/figures.py
makes the figures). `compact` joins the 红/黄/黑 and star columns and the inspections into one cell each, for paper
and phones; the XLSX keeps one number per cell."""

from __future__ import annotations

from dataclasses import dataclass

from ..ops.rules.bulletins import COUNTS

BOARDS_ZH = ("红", "黄", "黑", "未评")
STARS_ZH = ("5星", "4星", "3星", "2星", "1星", "0星")


@dataclass(frozen=True)
class Column:
    key: str  # count:found, rate:close_rate, insp:done, board:red, stars:5, rank, name, parent, note …
    zh: str
    target: tuple[str, float] | None = None  # (op, value) of a rate column with a target


def columns(fig: dict, compact: bool) -> list[Column]:
    d = fig["definitions"]
    counts = {c["code"]: c["zh"].removesuffix("数") if compact else c["zh"] for c in d["counts"]}
    cols = [Column("rank", "排名"), Column("name", "名称")]
    if not compact:
        cols.append(Column("parent", "所属"))
    cols += [Column(f"count:{c}", counts[c]) for c in COUNTS]
    cols += [Column(f"rate:{i['code']}", f"{i['zh']}(%)", (i["target_op"], i["target_value"])
                    if i["target_op"] else None) for i in d["indicators"]]
    insp = d["inspections"]
    target = (insp["target_op"], insp["target_value"]) if insp["target_op"] else None
    if compact:
        cols += [Column("insp:both", "巡查 完成/计划"), Column("insp:rate", f"{insp['zh']}(%)", target),
                 Column("boards", "红/黄/黑/未评"), Column("stars", "星级 5/4/3/2/1/0")]
    else:
        cols += [Column("insp:done", "巡查完成数"), Column("insp:planned", "巡查计划数"),
                 Column("insp:rate", f"{insp['zh']}(%)", target)]
        cols += [Column(f"board:{k}", f"{z}榜" if z != "未评" else z)
                 for k, z in zip(("red", "yellow", "black", "none"), BOARDS_ZH, strict=True)]
        cols += [Column(f"stars:{k}", z) for k, z in zip(("5", "4", "3", "2", "1", "0"), STARS_ZH, strict=True)]
    cols += [Column("last", "末位"), Column("missed", "未达标指标")]
    return cols


def _names(fig: dict) -> dict[str, str]:
    d = fig["definitions"]
    out = {i["code"]: i["zh"] for i in d["indicators"]}
    out[d["inspections"]["code"]] = d["inspections"]["zh"]
    return out


def cell(row: dict, col: Column, fig: dict, compact: bool):
    """The value of one cell: a number, text, or None (shown as —)."""
    k = col.key
    if k == "rank":
        return row.get("rank")
    if k == "name":
        return row["name"]
    if k == "parent":
        return row.get("parent")
    if k.startswith("count:"):
        return row["counts"][k[6:]]
    if k.startswith("rate:"):
        return row["rates"][k[5:]]
    insp = row.get("inspections")
    if k == "insp:both":
        return None if insp is None else f"{insp['done']}/{insp['planned']}"
    if k.startswith("insp:"):
        return None if insp is None else insp[k[5:]]
    if k == "boards":
        b = row.get("boards")
        return None if b is None else "/".join(str(b[x]) for x in ("red", "yellow", "black", "none"))
    if k == "stars":
        s = row.get("stars")
        return None if s is None else "/".join(str(s[x]) for x in ("5", "4", "3", "2", "1", "0"))
    if k.startswith("board:"):
        return None if row.get("boards") is None else row["boards"][k[6:]]
    if k.startswith("stars:"):
        return None if row.get("stars") is None else row["stars"][k[6:]]
    if k == "last":
        return "末位" if row.get("last_place") else ""
    if k == "missed":
        names = _names(fig)
        return "、".join(names.get(m, m) for m in row.get("targets_missed", []))
    raise KeyError(k)


def shown(value) -> str:
    """A cell as text: — for none, 66.7 for a rate."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}" if value == round(value, 1) else f"{value:g}"
    return str(value)


def missed_cell(row: dict, col: Column) -> bool:
    """Is this the cell of a target the row missed?"""
    if col.key.startswith("rate:"):
        return row["targets"].get(col.key[5:]) is False
    if col.key == "insp:rate":
        return row["targets"].get("inspection_rate") is False
    return False


def printed_rows(level: dict, limit: int | None) -> list[dict]:
    """The rows a paper or page prints: the first `limit` ranked, every 末位, and the unranked rows."""
    rows = level["rows"]
    if limit is None:
        return rows
    ranked = [r for r in rows if r["rank"] is not None]
    keep = {id(r) for r in ranked[:limit]} | {id(r) for r in ranked if r["last_place"]}
    return [r for r in rows if r["rank"] is None or id(r) in keep]
