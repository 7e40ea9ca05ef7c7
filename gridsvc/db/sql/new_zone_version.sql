-- Close a zone's current version and open the next one with another party (same geometry).
WITH old AS (
  UPDATE zones SET valid_to = now() WHERE zone_key = :key AND valid_to IS NULL
  RETURNING zone_key, version, kind, origin, policy, unit_id, street_id, compound_id, market_id, props, build_id, geom)
INSERT INTO zones (zone_key, version, kind, origin, policy, party_id, unit_id, street_id, compound_id, market_id,
                   props, build_id, created_by, geom)
SELECT zone_key, version + 1, kind, origin, policy, :party_id, unit_id, street_id, compound_id, market_id,
       props, build_id, :by, geom
FROM old
RETURNING id, version
