"""The registry of stored layers: table, attribute columns and geometry type of each."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotFoundError


@dataclass(frozen=True)
class LayerSpec:
    """How one layer is stored."""

    name: str
    table: str
    columns: tuple[str, ...]
    geom_type: str
    sourced: bool = True
    extra_geoms: tuple[tuple[str, str], ...] = ()
    key: str = "id"
    label: str = ""


LAYERS: dict[str, LayerSpec] = {
    s.name: s
    for s in (
        LayerSpec("streets", "streets", ("name", "name_zh", "osm_class", "lanes", "sidewalk", "width_m", "width_source",
                                        "steward_party_id"),
                  "MULTIPOLYGON", extra_geoms=(("centerline", "MULTILINESTRING"),), label="街道 Streets"),
        LayerSpec("buildings", "buildings", ("name", "building_type", "levels"), "MULTIPOLYGON", label="建筑 Buildings"),
        LayerSpec("compounds", "compounds", ("name", "property_manager", "kind"), "MULTIPOLYGON",
                  label="小区 Compounds"),
        LayerSpec("markets", "markets", ("name", "market_type", "operator"), "MULTIPOLYGON", label="市场 Markets"),
        LayerSpec("units", "units", ("name", "category", "address", "contact", "phone", "building_id"), "POINT",
                  label="沿街单位 Frontage units"),
        LayerSpec("admin_units", "admin_units", ("level", "code", "name", "parent_id", "provisional", "h3"),
                  "MULTIPOLYGON", label="行政区划 Admin units"),
        LayerSpec("zones", "zones_current",
                  ("zone_key", "version", "kind", "provenance", "policy", "unit_id", "street_id", "compound_id",
                   "market_id", "party_id", "party_kind", "party_name", "party_contact", "party_phone", "area_m2",
                   "side", "depth_rule", "frontage_m", "valid_from", "valid_to"),
                  "MULTIPOLYGON", sourced=False, key="zone_id", label="责任区 Responsibility zones"),
        LayerSpec("cells", "grid_cells", ("code", "res", "community_id"), "POLYGON", sourced=False, key="h3",
                  label="网格 Grid cells"),
    )
}
INGESTED = ("streets", "buildings", "compounds", "markets", "units", "admin_units")


def layer_spec(name: str) -> LayerSpec:
    """The spec of a layer by name, or NotFoundError listing the known layers."""
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFoundError(f"unknown layer {name!r}; known layers: {', '.join(LAYERS)}") from None
