-- The units around a point (WGS84 :lng/:lat) within :r metres, nearest first: a small answer for the field page.
-- :deg is a bounding box half-width in degrees that holds the circle (the index prefilter).
-- policy: the duty policy of the unit's current zone (else the latest build's), so the page picks its checklist.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS g)
SELECT u.id, u.name, u.category, u.address, u.rating, u.public_code AS code,
       round(CAST(ST_Distance(CAST(u.geom AS geography), CAST(p.g AS geography)) AS numeric), 1) AS distance_m,
       round(CAST(ST_X(u.geom) AS numeric), 6) AS lng, round(CAST(ST_Y(u.geom) AS numeric), 6) AS lat,
       coalesce((SELECT z.policy FROM zones z WHERE z.unit_id = u.id AND z.valid_to IS NULL AND z.policy IS NOT NULL
                 ORDER BY z.zone_id LIMIT 1),
                (SELECT zb.policy FROM zone_builds zb ORDER BY zb.id DESC LIMIT 1)) AS policy
FROM units u, p
WHERE u.geom && ST_Expand(p.g, :deg)
  AND ST_DWithin(CAST(u.geom AS geography), CAST(p.g AS geography), :r)
ORDER BY u.geom <-> p.g
LIMIT :limit
