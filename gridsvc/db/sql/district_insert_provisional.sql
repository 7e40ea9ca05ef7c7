INSERT INTO admin_units (level, code, name, provisional, geom)
VALUES ('district', :code, :name, true, ST_GeomFromWKB(:g, 4326)) RETURNING id
