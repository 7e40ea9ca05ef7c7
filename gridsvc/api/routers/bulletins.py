"""GET /bulletins/{weekly|monthly}/{period}.{xlsx|pdf|html|json}: the weekly assessment and the monthly bulletin
(每周一测评、每月一通报), and the same figures as JSON for the dashboard.

Permission first: the roles of bulletins.read (roles.toml: staff), then the kind, period and format. The bulletin
names no person (no officer, reporter or contact): rows are places, departments and streets; units appear only in
the merchant notice's 红/黄/黑 lists, which are published.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from ...exporters.bulletin_files import FORMATS, bulletin_format, render
from ...people.users import Principal
from ..dependencies import Conn
from ..security import require
from .exports import _disposition

router = APIRouter(tags=["bulletins"])


@router.get("/bulletins/{kind}/{period}.{fmt}", response_class=Response,
            summary="The weekly assessment or monthly bulletin of a period: XLSX, PDF, HTML or JSON",
            responses={200: {"content": {t: {} for t in FORMATS.values()},
                             "description": "the bulletin; .json is the figures the other formats print"},
                       422: {"description": "kind not weekly/monthly, period not a week/month of that kind, "
                                            "format not xlsx/pdf/html/json"}})
def bulletin(conn: Conn, principal: Annotated[Principal, Depends(require("bulletins.read"))],
             kind: Annotated[str, Path(max_length=10, description="weekly or monthly")],
             period: Annotated[str, Path(max_length=10, description="2026-W47 (weekly) or 2026-11 (monthly)")],
             fmt: Annotated[str, Path(max_length=4, description="xlsx, pdf, html or json")]) -> Response:
    """Rows per 街道, 社区, 网格, department and street: cases found, 立案, 结案, 按期结案, 超期, 返工, 督办, 挂账,
    the rates and targets of bulletins.toml, inspections done against planned, the 红/黄/黑 and star distribution,
    rank and 末位; the trend, the H3 heat map and every definition used. Weekly: `2026-W47`; monthly: `2026-11`
    (Beijing time)."""
    fmt = bulletin_format(fmt)
    data = render(conn, kind, period, fmt)
    name = f"bulletin-{kind}-{period}.{fmt}"
    inline = "inline" if fmt in ("pdf", "html", "json") else "attachment"
    return Response(data, media_type=FORMATS[fmt], headers={**_disposition(name, inline), "Cache-Control": "no-store"})
