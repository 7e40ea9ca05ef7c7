-- Zones by row id, as lookup.sql's zone row gives them (timestamps as row_to_json writes them, in the session's
-- time zone), with their precedence, validity, row version and geometry, for the lookup index.
SELECT z.id AS row_id, z.zone_id AS id, z.zone_key, z.version, z.kind, z.origin, z.policy, z.party_id, z.unit_id,
       z.street_id, z.props::text AS props, to_json(z.valid_from) #>> '{}' AS valid_from_json,
       to_json(z.valid_to) #>> '{}' AS valid_to_json, z.valid_from, z.valid_to, zone_rank(z.kind) AS rank,
       xmin::text::bigint AS xmin, ST_AsBinary(z.geom) AS wkb
FROM zones z WHERE z.id = ANY(CAST(:ids AS integer[]))
