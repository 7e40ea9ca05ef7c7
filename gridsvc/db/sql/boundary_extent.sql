-- Union of imported (non-provisional) districts, else subdistricts, else communities.
SELECT ST_AsBinary(ST_Union(geom)) FROM admin_units
WHERE NOT provisional AND level = (
  SELECT level FROM admin_units WHERE NOT provisional AND level <> 'grid'
  ORDER BY array_position(ARRAY['district','subdistrict','community'], level::text) LIMIT 1)
