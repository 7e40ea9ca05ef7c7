"""Classify OSM-tagged features into gridsvc layers (pure pandas, no I/O)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from ..city.catalogue import Catalogue

# Tag keys gridsvc reads; anything else stays in the source file.
TAG_KEYS = (
    "name", "name:zh", "highway", "service", "footway", "lanes", "width", "sidewalk", "building",
    "building:levels", "shop", "amenity", "office", "landuse", "place", "operator", "phone",
    "contact:phone", "addr:street", "addr:housenumber", "addr:full",
)
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def parse_hstore(text: object) -> dict[str, str]:
    """Parse ogr2ogr's `other_tags` hstore text ('"k"=>"v","k2"=>"v2"') into a dict."""
    if not isinstance(text, str) or not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE.findall(text)}


def _parse_tags(value: object) -> dict[str, str]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return parse_hstore(value)


def tag_table(df: pd.DataFrame) -> pd.DataFrame:
    """One string column per TAG_KEYS entry, from columns or a tags/other_tags blob; missing = None."""
    blob_col = next((c for c in ("tags", "other_tags") if c in df.columns), None)
    blobs = df[blob_col].map(_parse_tags) if blob_col else None
    out = {}
    for key in TAG_KEYS:
        col = df[key] if key in df.columns else pd.Series(None, index=df.index, dtype=object)
        col = col.astype(object).where(col.notna() & (col.astype(str).str.strip() != ""), None)
        if blobs is not None:
            extra = blobs.map(lambda d, k=key: d.get(k))
            col = col.where(col.notna(), extra)
        out[key] = col.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return pd.DataFrame(out, index=df.index)


def classify(tags: pd.DataFrame, geom_type: pd.Series, cat: Catalogue) -> dict[str, pd.Series]:
    """Boolean masks per layer (a feature may be in two: a shop mapped as a building)."""
    is_line = geom_type.isin(["LineString", "MultiLineString"])
    is_area = geom_type.isin(["Polygon", "MultiPolygon"])
    hw = tags["highway"]
    street = (
        is_line
        & hw.isin(list(cat.street_widths))
        & ~tags["service"].isin(list(cat.skip_service))
        & ~tags["footway"].isin(list(cat.skip_footway))
    )
    building = is_area & tags["building"].notna() & (tags["building"] != "no")
    market = (tags["amenity"] == "marketplace") | (is_area & (tags["landuse"] == "retail"))
    not_holder = pd.Series(False, index=tags.index)
    for key, value in cat.unit_not_holders:  # an ATM or a vending machine belongs to its bank, shop or building
        not_holder |= tags[key] == value
    institution = pd.Series(False, index=tags.index)
    for key, value in cat.institution_tags:  # a campus, hospital or government compound: grounds, not a shop
        institution |= tags[key] == value
    institution &= is_area & ~building & ~market
    unit = (
        (tags["shop"].notna() | tags["office"].notna() | tags["amenity"].isin(list(cat.unit_amenities)))
        & ~not_holder
        & ~market
        & ~institution
        & ((geom_type == "Point") | is_area)
    )
    compound = is_area & ~institution & (
        tags["landuse"].isin(list(cat.compound_landuse))
        | (tags["place"].isin(list(cat.compound_place)) & tags["name"].notna())
    )
    named = tags["name"].notna() | tags["name:zh"].notna()
    holder = building & named & ~tags["building"].isin(list(cat.building_not_holders)) & ~unit & ~market
    return {"streets": street, "buildings": building, "markets": market, "units": unit, "compounds": compound,
            "institutions": institution, "building_holders": holder}


def unit_category(tags: pd.DataFrame) -> pd.Series:
    """'shop=bakery' / 'amenity=bank' / 'office=company' for each unit."""
    out = pd.Series(None, index=tags.index, dtype=object)
    for key in ("office", "amenity", "shop"):  # later keys win: shop is the most specific
        v = tags[key]
        out = out.where(v.isna(), key + "=" + v.fillna(""))
    return out


def unit_address(tags: pd.DataFrame) -> pd.Series:
    """addr:full, else addr:street + addr:housenumber."""
    street = tags["addr:street"].fillna("")
    latin = street.str[-1:].str.match(r"[A-Za-z]").fillna(False).astype(bool)
    sep = latin.map({True: " ", False: ""})
    number = tags["addr:housenumber"].fillna("")
    street_no = (street + sep.where(number != "", "") + number).str.strip().replace("", None)
    return tags["addr:full"].where(tags["addr:full"].notna(), street_no)


def market_type(names: pd.Series, cat: Catalogue) -> pd.Series:
    """集贸 / 农贸 / 专业 from the market's name, by the catalogue's rules."""
    out = pd.Series(cat.market_default_type, index=names.index, dtype=object)
    decided = pd.Series(False, index=names.index)
    for needle, kind in cat.market_type_by_name:
        hit = names.fillna("").str.contains(needle, regex=False) & ~decided
        out[hit] = kind
        decided |= hit
    return out
