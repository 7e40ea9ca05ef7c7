-- Bounding box (WGS84) of one registry layer; NULLs when it is empty. $table comes from the registry.
SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
FROM (SELECT ST_Extent(geom) AS e FROM $table) s
