-- Current zones (other than :exclude) that a geometry overlaps, with the shared area in m².
-- No ST_Intersects: its GEOS relate can throw a TopologyException on shapes with nearly coincident vertices
-- (make_valid output), while the overlay behind ST_Intersection (OverlayNG) copes; the bbox test prefilters.
WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS geom)
SELECT zone_id, kind, provenance, party_name, area_m2 FROM (
  SELECT z.zone_id, z.kind, z.provenance, z.party_name,
         ST_Area(ST_Intersection(z.geom, g.geom)::geography) AS area_m2
  FROM zones_current z, g
  WHERE z.geom && g.geom AND z.zone_id <> ALL(:exclude)) o
WHERE area_m2 > :min_m2
ORDER BY area_m2 DESC, zone_id
