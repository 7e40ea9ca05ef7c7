-- Open a new version for every built zone that has no identical current version.
INSERT INTO zones (zone_key, version, kind, origin, policy, party_id, unit_id, street_id, compound_id, market_id,
                   props, build_id, created_by, geom)
SELECT n.zone_key, coalesce((SELECT max(version) FROM zones v WHERE v.zone_key = n.zone_key), 0) + 1,
       n.kind, 'auto', n.policy, n.party_id, n.unit_id, n.street_id, n.compound_id, n.market_id, n.props,
       :build_id, 'gridsvc build zones', n.geom
FROM _new_zones n
WHERE NOT EXISTS (SELECT 1 FROM zones z WHERE z.zone_key = n.zone_key AND z.valid_to IS NULL)
