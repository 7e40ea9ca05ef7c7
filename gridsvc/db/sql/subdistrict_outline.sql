SELECT ST_AsBinary(geom) FROM admin_units WHERE level = 'subdistrict' AND name = :n
