SELECT c.*, ST_X(c.geom) AS lng, ST_Y(c.geom) AS lat
FROM cases c
WHERE c.id = ANY(:ids)
