-- Each unit of a source file gets the building containing it, else the nearest within :max_m metres.
UPDATE units u SET building_id = (
  SELECT b.id FROM buildings b
  WHERE b.geom && ST_Expand(u.geom, :max_m / 90000.0)
    AND ST_DWithin(b.geom::geography, u.geom::geography, :max_m)
  ORDER BY ST_Covers(b.geom, u.geom) DESC, b.geom <-> u.geom
  LIMIT 1)
WHERE u.source_file = :sf
