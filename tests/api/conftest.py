"""The real Nanjing extract, gridded, with one hand-made responsibility zone, for the tile and OGC tests."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import load_nanjing

# A 门前三包 zone drawn by hand around the cinema 工人影城 at 新街口, so the zones layer is not empty
# (independent of the zone builder).
ZONE_SQL = """
INSERT INTO parties (kind, ref, name, contact, phone) VALUES ('unit', 'test:cinema', '工人影城', '张经理', '025-84000000');
INSERT INTO zones (zone_key, kind, origin, policy, party_id, unit_id, props, geom)
SELECT 'frontage:test-cinema', 'frontage', 'planner', '三包', p.id, u.id,
       '{"area_m2": 314.0, "side": "left", "depth_rule": "到路缘石", "frontage_m": 20}'::jsonb,
       ST_Multi(ST_Buffer(u.geom::geography, 10)::geometry)
FROM parties p, units u WHERE p.ref = 'test:cinema' AND u.name = '工人影城'
ORDER BY u.id LIMIT 1;
"""


@pytest.fixture(scope="module")
def nanjing(engine):
    """The session database holding Nanjing 新街口: layers, H3 grid (res 10) and one zone."""
    load_nanjing(engine)
    with engine.begin() as c:
        for stmt in filter(str.strip, ZONE_SQL.split(";")):
            c.execute(text(stmt))
    return engine
