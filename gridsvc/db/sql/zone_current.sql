-- The current version of a zone by its stable id, locked for an edit.
SELECT id, zone_id, zone_key, version, kind, origin, policy, party_id, unit_id, street_id, compound_id, market_id,
       props, build_id, ST_AsBinary(geom) AS wkb
FROM zones WHERE zone_id = :zone_id AND valid_to IS NULL
FOR UPDATE
