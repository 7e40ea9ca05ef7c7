-- Who is responsible at a point on a date: the primary zone (planner first, then by zone_rank(kind): frontage >
-- market > compound > street space), its party, the grid cell and its officer, and the nearest frontage unit.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS g),
z AS (
  SELECT z.zone_id AS id, z.zone_key, z.version, z.kind, z.origin, z.policy, z.party_id, z.unit_id, z.street_id,
         z.compound_id, z.market_id, z.props, z.valid_from, z.valid_to
  FROM zones z, p
  WHERE ST_Covers(z.geom, p.g) AND z.valid_from <= :at AND (z.valid_to IS NULL OR z.valid_to > :at)
  ORDER BY (z.origin = 'planner') DESC,
           zone_rank(z.kind), z.id
  LIMIT 1),
c AS (SELECT g.code, g.h3 FROM grid_cells g WHERE g.h3 = :h3),
o AS (
  SELECT o.id, o.name, o.phone FROM officers o JOIN officer_grids og ON og.officer_id = o.id, c
  WHERE og.grid_code = c.code ORDER BY o.id LIMIT 1),
n AS (  -- the point written out, not taken from p, so the GiST index answers the KNN ORDER BY
  SELECT u.id, u.name, u.category,
         ST_Distance(u.geom::geography, ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)::geography) AS distance_m
  FROM units u ORDER BY u.geom <-> ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) LIMIT 1)
SELECT (SELECT row_to_json(z) FROM z) AS zone,
       (SELECT row_to_json(pa) FROM parties pa, z WHERE pa.id = z.party_id) AS party,
       (SELECT row_to_json(s) FROM (SELECT st.id, st.name, st.steward_party_id FROM streets st, z
                                    WHERE st.id = z.street_id) s) AS street,
       (SELECT row_to_json(c) FROM c) AS cell,
       (SELECT row_to_json(o) FROM o) AS officer,
       (SELECT row_to_json(n) FROM n) AS nearest_unit
