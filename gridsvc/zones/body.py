"""A zone body (GeoJSON Feature) as the API and the zone edits receive it, validated once, here.

The pydantic model checks the properties (types, the kind against zones/kinds.py, the note's length) and
delegates the geometry to geo/geojson_checks.check_feature (RFC 7946 structure: where= names the member)
and geo/zone_geometry.parse_geometry (the numbers: NaN, range, swapped [lat, lng], the vertex limit). The
edit functions (zones/edits.py) take the validated ZoneFeature; what depends on stored data (the policy
exists or is the zone's own, the party exists and holds this kind, validity after repair, the managed
area, overlaps) is checked there, after the precondition. A GeoJSON error is an InputError (422, where=…)
raised as such through pydantic; a property error is pydantic's own 422 (RequestValidationError in the API,
an InputError naming the field for direct callers: `zone_body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from shapely.geometry.base import BaseGeometry

from ..errors import InputError
from ..geo.crs import CrsSpec
from ..geo.geojson_checks import check_feature
from ..geo.zone_geometry import MAX_VERTICES, POLYGONAL, from_client, parse_geometry
from .kinds import ZONE_KINDS, ZoneKind


class ZoneProperties(BaseModel):
    """Editable properties of a zone."""

    model_config = ConfigDict(extra="allow")
    party_id: int | None = Field(default=None, description="the responsible party (GET /parties)")
    kind: ZoneKind | None = None
    note: str | None = Field(default=None, max_length=500)
    policy: str | None = Field(default=None, max_length=40)
    version: int | None = Field(default=None, description="the version you edited (instead of If-Match)")


class ZoneFeature(BaseModel):
    """A GeoJSON Feature carrying a zone (geometry Polygon or MultiPolygon, WGS84 unless crs= says otherwise)."""

    model_config = ConfigDict(extra="allow")
    geometry_required: ClassVar[bool] = False
    type: Literal["Feature"]
    geometry: dict[str, Any] | None = None
    properties: ZoneProperties | None = None
    _shape: BaseGeometry | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _geojson(cls, data: Any, handler):
        """The fields first (pydantic), then the GeoJSON of the whole feature (bbox, crs, id members too)."""
        feature = handler(data)
        if isinstance(data, ZoneFeature):
            return feature
        positions = check_feature(data, kinds=POLYGONAL, geometry_required=cls.geometry_required,
                                  max_positions=MAX_VERTICES)
        if feature.geometry is not None:
            feature._shape = parse_geometry(feature.geometry, positions=positions)
        return feature

    @property
    def props(self) -> ZoneProperties:
        return self.properties if self.properties is not None else ZoneProperties()

    def shape(self, crs: str | CrsSpec = "wgs84") -> BaseGeometry | None:
        """The geometry sent, in WGS84 (None when the body has none); not yet checked for validity."""
        return None if self._shape is None else from_client(self._shape, crs)


class NewZoneFeature(ZoneFeature):
    """A GeoJSON Feature for a new zone: the geometry is required."""

    geometry_required: ClassVar[bool] = True


def zone_body(feature: ZoneFeature | Mapping, *, new: bool = False) -> ZoneFeature:
    """A body validated as the API validates it, for callers that hold a plain mapping (CLI, parties, tests)."""
    model = NewZoneFeature if new else ZoneFeature
    if isinstance(feature, model):
        return feature
    if isinstance(feature, ZoneFeature):
        feature = feature.model_dump(exclude_none=True)
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InputError("the body must be a GeoJSON Feature", where="body")
    try:
        return model.model_validate(feature)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        value = err.get("input")
        if where == "properties":
            raise InputError("properties must be an object", where=where) from None
        if where == "properties.kind":
            raise InputError(f"kind must be one of {', '.join(ZONE_KINDS)}, got {value!r}", where=where) from None
        if where == "properties.note":
            raise InputError("note must be text of at most 500 characters", where=where) from None
        if where == "properties.party_id":
            raise InputError(f"party_id must be an integer, got {value!r}", where=where) from None
        raise InputError(f"{err['msg']}", where=where) from None
