-- A zone's current geometry, else that of its last version (a deleted zone).
SELECT ST_AsBinary(geom) FROM zones WHERE zone_id = :z ORDER BY valid_to IS NULL DESC, version DESC LIMIT 1
