-- A geometry minus the current zones :ids, as WKB (NULL or empty when nothing is left).
WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS geom)
SELECT ST_AsBinary(ST_CollectionExtract(ST_Difference(g.geom, coalesce(
         (SELECT ST_Union(z.geom) FROM zones z WHERE z.zone_id = ANY(:ids) AND z.valid_to IS NULL),
         'GEOMETRYCOLLECTION EMPTY'::geometry)), 3))
FROM g
