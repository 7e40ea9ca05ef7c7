SELECT id, name, ST_AsBinary(geom) AS geom FROM admin_units WHERE level = 'community' AND code = :c
