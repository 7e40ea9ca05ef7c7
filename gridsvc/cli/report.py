"""`gridsvc report …`: the weekly assessment (周测评), the monthly bulletin (月度通报) and merchant notices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine

report_app = typer.Typer(help="每周一测评、每月一通报: weekly assessments, monthly bulletins, merchant notices.",
                         no_args_is_help=True)


def _report(kind: str, period: str, out: Path, now: str | None) -> None:
    with exit_on_error():
        from ..exporters.bulletin_files import bulletin_format, render
        from ..timekeeping import instant

        fmt = bulletin_format(out.name)
        at = None if now is None else instant(now, edge="start", where="--now")
        with migrated_engine().connect() as conn:
            data = render(conn, kind, period, fmt, now=at)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        console.print(f"wrote {out} ({len(data):,} bytes)", highlight=False)


@report_app.command("weekly")
def report_weekly(
    period: Annotated[str, typer.Option(help="an ISO week like 2026-W47 (Beijing time)")],
    out: Annotated[Path, typer.Option(help="the file to write: .xlsx, .pdf, .html or .json")],
    now: Annotated[str | None, typer.Option(help="the time the records are read at (ISO); default now")] = None,
) -> None:
    """The weekly assessment (周测评): rows per 街道, 社区, 网格, department and street, ranked (bulletins.toml)."""
    _report("weekly", period, out, now)


@report_app.command("monthly")
def report_monthly(
    period: Annotated[str, typer.Option(help="a month like 2026-11 (Beijing time)")],
    out: Annotated[Path, typer.Option(help="the file to write: .xlsx, .pdf, .html or .json")],
    now: Annotated[str | None, typer.Option(help="the time the records are read at (ISO); default now")] = None,
) -> None:
    """The monthly bulletin (月度通报): rows per 街道, 社区, 网格, department and street, ranked (bulletins.toml)."""
    _report("monthly", period, out, now)


@report_app.command("merchants")
def report_merchants(
    street: Annotated[str, typer.Option(help="a street's name or id, or a 街道's name or code")],
    period: Annotated[str, typer.Option(help="the rating period: 2026-11 or 2026-W47")],
    out: Annotated[Path, typer.Option(help="the PNG to write; the text goes next to it (.txt)")] = Path(
        "merchants.png"),
) -> None:
    """The street's merchant notice of the 红/黄/黑 lists: a PNG for its WeChat group, and the text."""
    with exit_on_error():
        from ..exporters.bulletin_merchants import merchant_png, merchant_text
        from ..ops.bulletins.figures import merchants

        with migrated_engine().connect() as conn:
            notice = merchants(conn, period, street)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(merchant_png(notice))
        out.with_suffix(".txt").write_text(merchant_text(notice), encoding="utf-8")
        console.print(f"wrote {out} and {out.with_suffix('.txt')}", highlight=False)
        print(merchant_text(notice), end="")
