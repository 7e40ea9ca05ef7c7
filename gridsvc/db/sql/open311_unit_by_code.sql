-- Open311 address_id: a unit's public code (一户一码) and its point.
SELECT coalesce(u.address, u.name) AS name, ST_X(u.geom) AS lng, ST_Y(u.geom) AS lat
FROM units u WHERE u.public_code = :c
