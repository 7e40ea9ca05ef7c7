"""The real Nanjing extract with its grid and 三包 zones, an officer and unit ratings, for the export tests."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from support import load_nanjing

from gridsvc.people.parties import add_officer

EVIL = '<img src=x onerror="alert(1)">中山路&1号'
# The grid with the most named shops (not buildings holding their own façade) holding a frontage zone (ties: the
# lowest code).
BUSIEST_GRID = """
SELECT g.code FROM grid_cells g
JOIN feature_cells fc ON fc.h3 = g.h3 AND fc.layer = 'units'
JOIN units u ON u.id = fc.feature_id AND u.name IS NOT NULL AND u.category NOT LIKE 'building=%'

JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage'
GROUP BY g.code ORDER BY count(DISTINCT u.id) DESC, g.code LIMIT 1
"""
GRID_UNITS = """
SELECT u.id, u.name, u.public_code FROM units u JOIN feature_cells fc ON fc.layer = 'units' AND fc.feature_id = u.id
JOIN grid_cells g ON g.h3 = fc.h3 WHERE g.code = :g ORDER BY u.id
"""


@pytest.fixture(scope="module")
def nanjing_zones(engine):
    """Nanjing 新街口 gridded with 三包 zones; in its busiest grid an officer, rated units and one hostile address."""
    load_nanjing(engine, zones="三包")
    with engine.begin() as c:
        grid = c.execute(text(BUSIEST_GRID)).scalar_one()
        add_officer(c, "王网格", "13800000000", [grid])
        units = [dict(r) for r in c.execute(text(GRID_UNITS), {"g": grid}).mappings()]
        for u, rating in zip(units, ("red", "yellow", "black"), strict=False):
            c.execute(text("UPDATE units SET rating = :r WHERE id = :i"), {"r": rating, "i": u["id"]})
        c.execute(text("UPDATE units SET address = :a WHERE id = :i"), {"a": EVIL, "i": units[-1]["id"]})
        community = grid[:12]
    return SimpleNamespace(engine=engine, grid=grid, community=community, units=units,
                           names=[u["name"] for u in units if u["name"]])


def map_payload(html: str) -> dict:
    """The layer data document of an offline map page."""
    start = html.index("gridsvcAddLayers([")
    start = html.index("], ", start) + 3
    document, _ = json.JSONDecoder().raw_decode(html, start)
    return document


def decoded_layers(html: str) -> list[dict]:
    """Each layer of an offline map with its fields, popup rows as texts and vertex count."""
    doc = map_payload(html)
    return [{"fields": layer["fields"], "style": layer["style"], "family": layer["family"],
             "rows": [[doc["strings"][i] for i in row] for row in layer["rows"]],
             "vertices": len(layer["xy"]) // 2} for layer in doc["layers"]]


@pytest.fixture
def decode_map():
    """decoded_layers, for tests that look inside a map page."""
    return decoded_layers
