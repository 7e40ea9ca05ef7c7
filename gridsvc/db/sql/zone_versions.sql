-- Every version of a zone, oldest first.
SELECT z.zone_id, z.id AS version_id, z.version, z.kind, z.origin AS provenance, z.policy, z.party_id,
       p.kind AS party_kind, p.name AS party_name, z.unit_id, (z.props->>'area_m2')::float AS area_m2,
       z.props->>'note' AS note, z.created_by, z.valid_from, z.valid_to, ST_AsBinary(z.geom) AS wkb
FROM zones z LEFT JOIN parties p ON p.id = z.party_id
WHERE z.zone_id = :zone_id
ORDER BY z.version
