"""What the public unit page (一户一码, `/u/{code}`) shows: a unit, its duties, rating, zone and grid officer.

This is the page behind the QR code on a 责任牌 board, so it is public: the officer's phone is masked and
the unit's own contact person and phone are not shown at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import h3.api.basic_int as h3
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..city.grid import grid_res
from ..db.sql import sql
from ..errors import GridsvcError, NotFoundError
from ..maps.zone_sketch import Street
from ..ops.rules.ratings import load_ratings
from ..people.masking import mask_phone
from ..timekeeping import iso
from .policies import load_policy

# Public codes are 12 hex characters (migration 0003); codes printed by other tools are lower-case
# base32/URL-safe, so anything in this alphabet is looked up, anything else is malformed (404 at once).
CODE_RE = re.compile(r"^[0-9a-z_-]{4,64}$")
SKETCH_PAD_DEG = 0.0006  # ~60 m: streets and buildings fetched around the zone for the sketch
DEPTH_RULES = {"kerb": ("至路缘石", "to the kerb"), "centreline": ("至道路中心线", "to the street centreline")}
REPORT = {
    "zh": "发现责任区内有垃圾、占道经营、绿化损坏等问题？请联系本网格网格员，或拨打 12345 政务服务便民热线。"
          "在线举报功能即将开通。",
    "en": "Litter, goods on the pavement, damaged greenery? Tell the grid officer of this grid or call the "
          "12345 citizen hotline. Online reporting is coming soon.",
}


def normalise_code(code: str) -> str | None:
    """The code as stored (lower case), or None when it cannot be a public code."""
    text = (code or "").strip().lower()
    return text if CODE_RE.match(text) else None


def rating_info(value: str | None) -> dict:
    """The board to show for a stored rating: value, label (红牌/黄牌/黑牌/未评级), its meaning and colours
    (ratings.toml [signs]); a value the check constraint should have stopped shows as unrated."""
    ratings = load_ratings()
    try:
        label = ratings.rating_label(value)
    except GridsvcError:
        label = ratings.unrated.label
    code = next((c for c, s in ratings.rated_signs().items() if s.label == label), None)
    sign = ratings.sign_for(code)
    return {"value": code, "label": sign.zh, "en": sign.en, "meaning_zh": sign.meaning_zh,
            "meaning_en": sign.meaning_en}


@dataclass
class PublicUnit:
    """The page's data (JSON-ready) and the geometries of its sketch (WGS84)."""

    data: dict
    point: BaseGeometry
    zones: list[BaseGeometry] = field(default_factory=list)
    building: BaseGeometry | None = None
    streets: list[Street] = field(default_factory=list)
    others: list[BaseGeometry] = field(default_factory=list)


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or [])


def _zone_entry(z: dict, geom: BaseGeometry) -> dict:
    rule_zh, rule_en = DEPTH_RULES.get(z["depth_rule"], (z["depth_rule"], z["depth_rule"]))
    return {"zone_id": z["zone_id"], "version": z["version"], "street_id": z["street_id"],
            "street_name": z["street_name"], "side": z["side"],
            "depth_rule": z["depth_rule"], "depth_zh": rule_zh, "depth_en": rule_en,
            "frontage_m": z["frontage_m"], "area_m2": z["area_m2"], "valid_from": z["valid_from"],
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-7)))}


def public_unit(conn: Connection, code: str) -> PublicUnit:
    """Everything the public page of a unit shows; NotFoundError for an unknown or malformed code."""
    key = normalise_code(code)
    row = conn.execute(sql("public_unit"), {"code": key, "pad_deg": SKETCH_PAD_DEG}).mappings().one_or_none() \
        if key else None
    if row is None:
        raise NotFoundError("no unit has this code: check the code on the board (一户一码), or the board may have "
                            "been replaced", where="code")
    point = shapely.Point(row["lng"], row["lat"])
    zones_raw = _json(row["zones"])
    zone_geoms = [shapely.from_wkb(z["wkb"]) for z in zones_raw]
    policy = load_policy(row["policy"]) if row["policy"] else None
    cell = h3.latlng_to_cell(row["lat"], row["lng"], grid_res(conn))
    grid = conn.execute(sql("public_unit_grid"), {"h3": cell}).mappings().one_or_none()
    officer = None
    if grid is not None and grid["officer_name"]:
        officer = {"name": grid["officer_name"], "phone": mask_phone(grid["officer_phone"])}
    rating = rating_info(row["rating"])
    data = {
        "code": row["public_code"],
        "unit": {"name": row["name"], "label": load_catalogue().unit_label(row["name"], row["category"]),
                 "kind": load_catalogue().kind_label(row["category"]), "category": row["category"],
                 "address": row["address"]},
        "rating": rating | {"credit_points": row["credit_points"], "rated_at": iso(row["rated_at"]),
                            "stars": None if row["credit_points"] is None
                            else load_ratings().stars_for(row["credit_points"])},
        "policy": None if policy is None else {"name": policy.name, "label": policy.label},
        "duties": [] if policy is None else policy.duty_list(),
        "zones": [_zone_entry(z, g) for z, g in zip(zones_raw, zone_geoms, strict=True)],
        "grid": {"code": grid["grid_code"] if grid else None, "h3": h3.int_to_str(cell), "officer": officer},
        "report": REPORT,
    }
    streets = [Street(shapely.from_wkb(s["wkb"]), s["name"], s["width_m"]) for s in _json(row["streets"])]
    building = shapely.from_wkb(row["building_wkb"]) if row["building_wkb"] else None
    others = [shapely.from_wkb(w) for w in _json(row["other_buildings"])]
    return PublicUnit(data, point, zone_geoms, building, streets, others)
