-- lookup.sql for many points at once (POST /lookup): primary zone, party, grid code and officer per point.
WITH pts AS (
  SELECT t.i, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326) AS g, t.h
  FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:hs AS bigint[])) WITH ORDINALITY AS t(x, y, h, i))
SELECT pts.i, z.zone_id, z.kind, z.unit_id, pa.kind AS party_kind, pa.name AS party_name,
       pa.phone AS party_phone, c.code AS grid_code, o.name AS officer_name, o.phone AS officer_phone
FROM pts
LEFT JOIN LATERAL (
  SELECT z.id, z.zone_id, z.kind, z.unit_id, z.party_id FROM zones z
  WHERE ST_Covers(z.geom, pts.g) AND z.valid_from <= :at AND (z.valid_to IS NULL OR z.valid_to > :at)
  ORDER BY (z.origin = 'planner') DESC,
           zone_rank(z.kind), z.id
  LIMIT 1) z ON true
LEFT JOIN parties pa ON pa.id = z.party_id
LEFT JOIN grid_cells c ON c.h3 = pts.h
LEFT JOIN LATERAL (
  SELECT o.name, o.phone FROM officer_grids og JOIN officers o ON o.id = og.officer_id
  WHERE og.grid_code = c.code ORDER BY o.id LIMIT 1) o ON true
ORDER BY pts.i
