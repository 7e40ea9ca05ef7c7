-- A unit by its public code (一户一码, gridsvc/ops/addresses.py place_unit_code): its address or name and point.
SELECT coalesce(u.address, u.name) AS name, ST_X(u.geom) AS lng, ST_Y(u.geom) AS lat
FROM units u WHERE u.public_code = :c
