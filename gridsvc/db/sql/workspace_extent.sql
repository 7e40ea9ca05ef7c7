-- The managed area's WGS84 bounding box for the workspace's first view: the planner's estimate from the
-- table statistics (instant on any size), else the exact extent; grid cells first, else the streets.
SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
FROM (SELECT coalesce(
  ST_EstimatedExtent('public', 'grid_cells', 'geom'), (SELECT ST_Extent(geom) FROM grid_cells),
  ST_EstimatedExtent('public', 'streets', 'geom'), (SELECT ST_Extent(geom) FROM streets))::box2d AS e) s
