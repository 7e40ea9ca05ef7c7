-- Every unit's point, name and category (the nearest frontage unit of a lookup), for the lookup index.
SELECT id, name, category, ST_X(geom) AS x, ST_Y(geom) AS y FROM units
