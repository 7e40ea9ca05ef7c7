SELECT ST_Area(ST_GeomFromWKB(:w, 4326)::geography)
