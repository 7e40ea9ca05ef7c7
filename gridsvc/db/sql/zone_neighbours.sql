-- Current zones (other than :exclude) within :tol degrees of a geometry's bounding box, as WKB: what its vertices
-- may be snapped to (zone_edits.snap_to_stored).
WITH g AS (SELECT ST_Expand(ST_GeomFromWKB(:wkb, 4326), :tol) AS box)
SELECT ST_AsBinary(z.geom) AS wkb
FROM zones_current z, g
WHERE z.geom && g.box AND z.zone_id <> ALL(:exclude)
