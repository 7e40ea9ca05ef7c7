"""The workspace's dashboard (看板): the H3 heat map of the cases found per ISO week, and the cases of one cell.

Permission first: the roles of dashboard.read (roles.toml: staff), then the parameters. The heat map counts every
case of the district (as the bulletin's heat map, which the same roles read); the cases of a cell are a grid
officer's own grids' only. The overdue list and the ranking come from GET /cases?overdue=true and
GET /bulletins/{kind}/{period}.json. Code: gridsvc/ops/bulletins/dashboard.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from ...geo.crs import DisplayCrs
from ...ops.bulletins import dashboard as core
from ...people.users import Principal
from ..dependencies import Conn
from ..security import require

router = APIRouter(tags=["dashboard"])
Staff = Annotated[Principal, Depends(require("dashboard.read"))]
Week = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-W\d{2}$",
                                   description="an ISO week, Beijing time (e.g. 2026-W48); default: this week")]
Res = Annotated[int | None, Query(ge=0, le=15, description="H3 resolution (default: the bulletin heat map's, from "
                                                           "the district's size; bulletins.toml [heat_map])")]


@router.get("/dashboard/weeks", summary="The heat map's weeks: cases found per ISO week and the colour scale")
def dashboard_weeks(conn: Conn, principal: Staff,
                    n: Annotated[int, Query(ge=1, le=core.MAX_WEEKS, description="how many weeks")] = 8,
                    until: Week = None, res: Res = None) -> dict:
    """The last n ISO weeks up to `until` (Beijing time), the oldest first: each with its cases found, cells and
    busiest cell; `top` is the largest of those (a colour scale shared by the weeks) and `res` the resolution."""
    return core.weeks(conn, n, until, res)


@router.get("/dashboard/heat", summary="Cases found in one ISO week per H3 cell, as GeoJSON hexagons")
def dashboard_heat(conn: Conn, principal: Staff, week: Week = None, res: Res = None,
                   top: Annotated[int | None, Query(ge=1, le=1_000_000, description="the count of the darkest "
                                                                                     "class (default: this week's "
                                                                                     "busiest cell)")] = None,
                   crs: Annotated[DisplayCrs, Query(description="gcj02 for 高德")] = "wgs84") -> dict:
    """A FeatureCollection of hexagons with `h3`, `count` and `class` (0..4 of `colors`), and the week's bounds.
    Counted as the bulletins' 发现数: reported in the week, no duplicates, no void cases."""
    return core.week_heat(conn, week or core.week_key(), res, top, crs)


@router.get("/dashboard/cells/{h3}/cases", summary="The cases found in one H3 cell in one week")
def dashboard_cell_cases(conn: Conn, principal: Staff, h3: Annotated[str, Path(max_length=16, pattern=r"^[0-9a-fA-F]{15,16}$",
                                                                     description="an H3 cell of the heat map")],
                         week: Week = None,
                         limit: Annotated[int, Query(ge=1, le=core.MAX_CELL_CASES)] = 50) -> dict:
    """Compact rows (code, state, category, description, times, overdue, grid, point), newest first; a grid
    officer gets their grids' only, and `outside_scope` counts the others."""
    return core.cell_cases(conn, h3, week or core.week_key(), principal, limit)
