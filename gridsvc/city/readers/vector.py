"""Read GeoPackage / GeoJSON / Shapefile layers into gridsvc layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ...errors import InputError, MissingColumnsError, UnreadableFileError
from ...geo.osm_tags import TAG_KEYS
from ..catalogue import Catalogue
from .tagged import layers_from_tagged

KINDS = ("street", "building", "compound", "market", "unit", "boundary")
KIND_LAYER = {"street": "streets", "building": "buildings", "compound": "compounds", "market": "markets",
              "unit": "units", "boundary": "admin_units"}

# canonical column -> header synonyms (compared case- and space-insensitively)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "source_id": ("osm_id", "id", "fid", "objectid", "编号", "代码id", "uid"),
    "name": ("name", "名称", "名字", "街道名称", "道路名称", "小区名称", "市场名称", "店名", "mc"),
    "name_zh": ("name:zh", "name_zh"),
    "osm_class": ("highway", "class", "fclass", "道路等级", "等级"),
    "lanes": ("lanes", "车道数"),
    "width_tag": ("width", "宽度", "路宽", "width_m"),
    "sidewalk": ("sidewalk", "人行道"),
    "building_type": ("building", "type", "类型"),
    "levels": ("building:levels", "levels", "层数"),
    "property_manager": ("property_manager", "物业", "物业公司", "物业管理", "operator"),
    "market_type": ("market_type", "市场类型", "类型"),
    "operator": ("operator", "开办方", "经营者", "管理方"),
    "category": ("category", "类别", "行业", "业态", "shop", "amenity"),
    "address": ("address", "地址", "addr:full"),
    "contact": ("contact", "负责人", "联系人"),
    "phone": ("phone", "电话", "联系电话"),
    "level": ("level", "级别", "层级"),
    "code": ("code", "区划代码", "代码", "编码", "网格编码"),
    "parent_code": ("parent_code", "上级代码", "上级编码"),
}
KIND_COLUMNS = {
    "street": ("source_id", "name", "name_zh", "osm_class", "lanes", "width_tag", "sidewalk"),
    "building": ("source_id", "name", "building_type", "levels"),
    "compound": ("source_id", "name", "property_manager"),
    "market": ("source_id", "name", "market_type", "operator"),
    "unit": ("source_id", "name", "category", "address", "contact", "phone"),
    "boundary": ("source_id", "name", "level", "code", "parent_code"),
}
REQUIRED = {"boundary": ("name", "level", "code")}
LEVELS = {"区": "district", "县": "district", "district": "district", "街道": "subdistrict", "镇": "subdistrict",
          "乡": "subdistrict", "subdistrict": "subdistrict", "社区": "community", "村": "community",
          "community": "community", "网格": "grid", "grid": "grid"}
EXPECTED_GEOMS = {"street": ("LineString", "MultiLineString"), "unit": ("Point", "MultiPoint", "Polygon", "MultiPolygon")}


def _norm(header: str) -> str:
    return "".join(str(header).split()).lower()


def map_columns(df: pd.DataFrame, kind: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """canonical name -> column in df, by synonyms and explicit overrides."""
    by_norm = {_norm(c): c for c in df.columns if c != "geometry"}
    found = {}
    for canon in KIND_COLUMNS[kind]:
        for syn in SYNONYMS.get(canon, (canon,)):
            if _norm(syn) in by_norm:
                found[canon] = by_norm[_norm(syn)]
                break
    for canon, col in (overrides or {}).items():
        found[canon] = col
    return found


def _layer_for_kind(gdf: gpd.GeoDataFrame, kind: str, source: str, layer: str,
                    columns: dict[str, str] | None, cat: Catalogue) -> gpd.GeoDataFrame:
    mapping = map_columns(gdf, kind, columns)
    missing = [c for c in REQUIRED.get(kind, ()) if c not in mapping]
    bad = [v for v in (columns or {}).values() if v not in gdf.columns]
    if missing or bad:
        raise MissingColumnsError(
            f"missing required column(s) {', '.join(missing + bad)} for --kind {kind}; "
            f"columns found: {', '.join(map(str, gdf.columns.drop('geometry', errors='ignore')))}",
            source=source, where=f"layer {layer}",
        )
    expected = EXPECTED_GEOMS.get(kind, ("Polygon", "MultiPolygon"))
    wrong = ~gdf.geom_type.isin(expected) & gdf.geometry.notna()
    if wrong.any():
        first = gdf.index[wrong][:5].tolist()
        raise InputError(
            f"--kind {kind} expects {'/'.join(expected)} geometries but {int(wrong.sum())} feature(s) are "
            f"{', '.join(sorted(set(gdf.geom_type[wrong])))} (features {first})",
            source=source, where=f"layer {layer}",
        )
    out = pd.DataFrame(index=gdf.index)
    for canon in KIND_COLUMNS[kind]:
        out[canon] = gdf[mapping[canon]].astype(object) if canon in mapping else None
    out["source_id"] = (layer + ":" + out["source_id"].astype(str)) if "source_id" in mapping else (
        layer + ":feature-" + pd.Series(range(1, len(gdf) + 1), index=gdf.index).astype(str))
    if kind == "market":
        from ...geo.osm_tags import market_type
        known = out["market_type"].isin(["集贸", "农贸", "专业"])
        out["market_type"] = out["market_type"].where(known, market_type(out["name"], cat))
    if kind == "boundary":
        lv = out["level"].astype(str).str.strip().str.lower().map(lambda v: LEVELS.get(v))
        if lv.isna().any():
            rows = gdf.index[lv.isna()][:5].tolist()
            raise InputError(f"unknown admin level(s) {sorted(set(out['level'][lv.isna()].astype(str)))} in features "
                             f"{rows}; use 区/街道/社区/网格 or district/subdistrict/community/grid",
                             source=source, where=f"layer {layer}")
        out["level"] = lv
    if kind == "unit":
        geoms = gdf.geometry.where(gdf.geom_type == "Point", gdf.geometry.representative_point())
        return gpd.GeoDataFrame(out, geometry=geoms, crs=gdf.crs)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry, crs=gdf.crs)


def has_osm_tags(gdf: gpd.GeoDataFrame) -> bool:
    """True when a layer carries OSM-style tag columns we can classify."""
    cols = {c.lower() for c in gdf.columns}
    return bool(cols & {"highway", "building", "landuse", "amenity", "shop", "other_tags", "tags"})


def list_layers(path: Path) -> list[str]:
    """Layer names in a vector file, or UnreadableFileError."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as e:  # pyogrio raises DataSourceError and friends
        raise UnreadableFileError(f"cannot open as a GIS file ({e})", source=path.name) from e


def read_raw(path: Path, layer: str) -> gpd.GeoDataFrame:
    """One layer as read, with its own CRS (may be None)."""
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as e:
        raise UnreadableFileError(f"cannot read layer {layer!r} ({e})", source=path.name) from e


def layers_from_raw(gdf: gpd.GeoDataFrame, *, source: str, layer: str, kind: str | None,
                    columns: dict[str, str] | None, cat: Catalogue) -> dict[str, gpd.GeoDataFrame]:
    """Turn one read layer (already in WGS84) into gridsvc layers, by --kind or by OSM tags."""
    if kind is not None:
        if kind not in KINDS:
            raise InputError(f"unknown --kind {kind!r}; use one of {', '.join(KINDS)}", source=source)
        return {KIND_LAYER[kind]: _layer_for_kind(gdf, kind, source, layer, columns, cat)}
    if not has_osm_tags(gdf):
        raise InputError(
            f"cannot tell what layer {layer!r} holds (no OSM-style tag columns); pass --kind "
            f"{'|'.join(KINDS)}", source=source,
        )
    ids = gdf["osm_id"] if "osm_id" in gdf.columns else pd.Series(range(1, len(gdf) + 1), index=gdf.index)
    if "osm_way_id" in gdf.columns:
        ids = ids.where(ids.notna() & (ids.astype(str) != ""), "way/" + gdf["osm_way_id"].astype(str))
    ids = layer + ":" + ids.astype(str)
    keep = [c for c in gdf.columns if c in TAG_KEYS or c in ("tags", "other_tags", "geometry")]
    return layers_from_tagged(gdf[keep], ids, cat)
