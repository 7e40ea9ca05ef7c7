"""A bulletin as a file: the format from the name's suffix (.xlsx, .pdf, .html, .json), for the CLI and the API."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection

from ..errors import InputError
from ..ops.bulletins import figures as bulletins

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf",
           "html": "text/html; charset=utf-8", "json": "application/json"}


def bulletin_format(name: str) -> str:
    """xlsx, pdf, html or json from a file name or suffix; InputError otherwise."""
    fmt = name.rsplit(".", 1)[-1].lower()
    if fmt not in FORMATS:
        raise InputError(f"a bulletin is written as .xlsx, .pdf, .html or .json, not {name!r}", where="out")
    return fmt


def render(conn: Connection, kind: str, key: str, fmt: str, *, now: datetime | None = None) -> bytes:
    """The bulletin of a period in one format."""
    fmt = bulletin_format(fmt)
    fig = bulletins.figures(conn, kind, key, now=now)
    if fmt == "json":
        return json.dumps(fig, ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "xlsx":
        from .bulletin_xlsx import bulletin_xlsx
        return bulletin_xlsx(fig)
    outline = bulletins.outline(conn)
    if fmt == "pdf":
        from .bulletin_pdf import bulletin_pdf
        return bulletin_pdf(fig, outline)
    from .bulletin_html import bulletin_html
    return bulletin_html(fig, outline).encode("utf-8")
