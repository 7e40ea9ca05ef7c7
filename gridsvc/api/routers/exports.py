"""File exports for the field team: offline map, walk-through pack, 责任牌 boards, scoped GIS layers."""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import Field
from sqlalchemy import Connection

from ...db.layers import layer_spec
from ...errors import InputError
from ...exporters.layers import write_layer
from ...exporters.offline_map import offline_map_html
from ...exporters.pack import build_pack, units_in_walk_order
from ...exporters.scope import Scope, layer_for_export, resolve_scope, units_by_id
from ...exporters.unit_boards import write_boards
from ...settings import get_settings
from ..dependencies import Conn
from ..security import require

# Field packs carry contact names and phones: staff only.
router = APIRouter(prefix="/exports", tags=["exports"], dependencies=[Depends(require("exports.read"))])
MEDIA = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3", "shp": "application/zip",
         "kml": "application/vnd.google-earth.kml+xml"}


@dataclass(frozen=True)
class ScopeQuery:
    """The scope query parameters (at most one)."""

    grid: str | None
    community: str | None
    street: str | None
    bbox: str | None

    def resolve(self, conn: Connection) -> Scope:
        """The scope they name (none: everything)."""
        return resolve_scope(conn, self.grid, self.community, self.street, self.bbox)


def scope_query(
    grid: Annotated[str | None, Query(description="a grid's 15-digit code", max_length=32)] = None,
    community: Annotated[str | None, Query(description="a community's 12-digit code", max_length=32)] = None,
    street: Annotated[str | None, Query(description="a street's (or subdistrict's) name", max_length=100)] = None,
    bbox: Annotated[str | None, Query(description="minLng,minLat,maxLng,maxLat (WGS84)", max_length=200)] = None,
) -> ScopeQuery:
    """At most one of grid, community, street, bbox; none means everything."""
    return ScopeQuery(grid, community, street, bbox)


ScopeDep = Annotated[ScopeQuery, Depends(scope_query)]


def _disposition(filename: str, kind: str = "attachment") -> dict[str, str]:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {"Content-Disposition": f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"}


def _zip(folder: Path) -> bytes:
    """The files of a folder as a zip archive."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                z.write(path, path.name)
    return buf.getvalue()


@router.get("/map.html", response_class=HTMLResponse,
            summary="Self-contained offline HTML map of a grid, community, street or bbox (none: everything)")
def export_map(conn: Conn, scope: ScopeDep) -> HTMLResponse:
    """The map page: every script and style inlined, zones coloured by kind of party, popups, legend."""
    where = scope.resolve(conn)
    return HTMLResponse(offline_map_html(conn, where), headers=_disposition(f"map-{where.slug}.html", "inline"))


@router.get("/pack.zip", response_class=Response, summary="A grid's walk-through pack as a zip",
            responses={200: {"content": {"application/zip": {}}, "description": "the pack"}})
def export_pack(conn: Conn, grid: Annotated[str, Query(description="the grid's 15-digit code", max_length=32)],
                ) -> Response:
    """Offline map, walking order, A4 checklist, boards, zones/units as GeoJSON/KML/GeoPackage, manifest."""
    with tempfile.TemporaryDirectory(prefix="gridsvc-pack-") as tmp:
        report = build_pack(conn, grid, Path(tmp) / "pack")
        body = _zip(report.out)
    return Response(body, media_type="application/zip", headers=_disposition(f"pack-{grid}.zip"))


@router.get("/boards.pdf", response_class=Response, summary="责任牌 boards of units or of a grid's units",
            responses={200: {"content": {"application/pdf": {}}, "description": "one A5 page per unit"}})
def export_boards(conn: Conn,
                  grid: Annotated[str | None, Query(description="a grid's 15-digit code", max_length=32)] = None,
                  unit: Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None,
                                  Query(description="unit id, repeatable (at most 500)", max_length=500)] = None,
                  ) -> Response:
    """One page per unit with its duties, zone sketch and a QR code of {GRIDSVC_PUBLIC_BASE_URL}/u/{code}."""
    if bool(grid) == bool(unit):
        raise InputError("give grid=CODE or unit=ID (repeatable), not both or neither", where="query parameters")
    units = units_by_id(conn, unit) if unit else units_in_walk_order(conn, grid)
    with tempfile.TemporaryDirectory(prefix="gridsvc-boards-") as tmp:
        path = write_boards(conn, units, Path(tmp) / "boards.pdf", base_url=get_settings().public_base_url)
        body = path.read_bytes()
    name = f"boards-{grid}.pdf" if grid else f"boards-unit-{'-'.join(map(str, unit[:5]))}.pdf"
    return Response(body, media_type="application/pdf", headers=_disposition(name))


@router.get("/layers/{layer}.{fmt}", response_class=Response,
            summary="A layer (or its part inside a scope) as GeoJSON, GeoPackage, zipped Shapefile or KML")
def export_layer(conn: Conn, scope: ScopeDep, layer: Annotated[str, PathParam(max_length=64)],
                 fmt: Literal["geojson", "gpkg", "shp", "kml"]) -> Response:
    """The stored layer (streets, buildings, compounds, markets, units, cells, admin_units, zones) in WGS84."""
    layer_spec(layer)  # NotFoundError naming the known layers
    gdf = layer_for_export(conn, layer, scope.grid, scope.community, scope.street, scope.bbox)
    with tempfile.TemporaryDirectory(prefix="gridsvc-layer-") as tmp:
        path = write_layer(gdf, Path(tmp) / f"{layer}.{fmt}", layer)
        body = _zip(path.parent) if fmt == "shp" else path.read_bytes()
    name = f"{layer}.zip" if fmt == "shp" else f"{layer}.{fmt}"
    return Response(body, media_type=MEDIA[fmt], headers=_disposition(name))
