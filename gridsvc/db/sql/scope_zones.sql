-- Current zones with their party; $where: fixed SQL on bound parameters.
SELECT z.zone_id, z.id AS version_id, z.zone_key, z.version, z.kind, z.provenance, z.policy, z.unit_id, z.street_id,
       z.compound_id, z.market_id, z.party_id, z.party_kind, z.party_name, z.party_contact, z.party_phone,
       z.area_m2, z.side, z.depth_rule, z.frontage_m, z.valid_from, ST_AsBinary(z.geom) AS geom
FROM zones_current z
$where
ORDER BY z.zone_id
