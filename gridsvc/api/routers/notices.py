"""GET /cases/{id}/notices/{kind}.pdf: a case's notice as a Chinese PDF (提醒卡, 整改通知单, 问题督办单).

Permission first: the roles of cases.notices (roles.toml), then the case's scope (a grid officer's grids), then
the content. The PDF carries the party's case link in its QR code (reminder, rectification), never the reporter.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from ...exporters.notices import case_notice
from ...people.users import Principal
from ...settings import get_settings
from ..dependencies import Conn
from ..security import require
from .cases import CaseScope
from .exports import _disposition
from .uploads import upload_dir

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id:int}/notices/{kind}.pdf", response_class=Response,
            summary="A case's notice as PDF: 提醒卡 (reminder), 整改通知单 (rectification), 督办单 (escalation)",
            responses={200: {"content": {"application/pdf": {}}, "description": "one page, A4 or A5"},
                       404: {"description": "no such case, or no 督办单 for an escalation notice"}})
def notice(request: Request, conn: Conn, principal: Annotated[Principal, Depends(require("cases.notices"))],
           scoped: CaseScope, case_id: int, kind: Literal["reminder", "rectification", "escalation"],
           size: Annotated[Literal["A4", "A5"], Query(description="paper size")] = "A4",
           escalation: Annotated[int | None, Query(ge=1, le=2**62, description="escalation notices: the 督办单's "
                                                                            "id (default: the latest)")] = None
           ) -> Response:
    """The notice of a case: the party, place, problem, the duty breached, the deadline (Beijing time), the zone
    sketch, the first photo (without EXIF/GPS) and a QR code of the party's case page; a 督办单 names its level,
    recipient, the missed deadline, how long overdue and the new requirement."""
    pdf = case_notice(conn, case_id, kind, size=size, base_url=get_settings().public_base_url,
                      escalation_id=escalation, upload_dir=upload_dir(request, conn))
    return Response(pdf, media_type="application/pdf",
                    headers={**_disposition(f"case-{case_id}-{kind}.pdf", "inline"), "Cache-Control": "no-store"})
