-- The current zones a planner drew: auto zones are clipped around them.
SELECT id, ST_AsBinary(geom) FROM zones WHERE origin = 'planner' AND valid_to IS NULL
