-- Every zone valid at :at within :radius metres of a point, nearest first.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS g)
SELECT z.zone_id AS id, z.version, z.zone_key, z.kind, z.origin, z.party_id, pa.name AS party_name, pa.kind AS party_kind,
       z.unit_id, z.street_id, round(ST_Distance(z.geom::geography, p.g::geography)::numeric, 2) AS distance_m
FROM zones z CROSS JOIN p LEFT JOIN parties pa ON pa.id = z.party_id
WHERE z.geom && ST_Expand(p.g, :radius / 80000.0)
  AND ST_DWithin(z.geom::geography, p.g::geography, :radius)
  AND z.valid_from <= :at AND (z.valid_to IS NULL OR z.valid_to > :at)
ORDER BY distance_m, z.id
LIMIT 500
