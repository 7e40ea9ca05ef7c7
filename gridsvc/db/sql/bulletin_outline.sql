-- The district's outline for a bulletin's heat map, simplified to :tol degrees: the district admin unit(s), else
-- the subdistricts' union, else the hull of the grid cells (WKB, WGS84); and the subdistricts' outlines.
SELECT ST_AsBinary(ST_SimplifyPreserveTopology(coalesce(
         (SELECT ST_Union(geom) FROM admin_units WHERE level = 'district'),
         (SELECT ST_Union(geom) FROM admin_units WHERE level = 'subdistrict'),
         (SELECT ST_ConvexHull(ST_Collect(geom)) FROM grid_cells)), :tol)) AS district,
       (SELECT array_agg(ST_AsBinary(ST_SimplifyPreserveTopology(geom, :tol)) ORDER BY code)
        FROM admin_units WHERE level = 'subdistrict') AS subdistricts,
       (SELECT name FROM admin_units WHERE level = 'district' ORDER BY code LIMIT 1) AS name
