-- A zone version as a GeoJSON feature's parts: every property and the geometry (7 decimals).
SELECT z.zone_id, z.id AS version_id, z.version, z.kind, z.origin AS provenance, z.policy, z.party_id,
       p.kind AS party_kind, p.name AS party_name, p.contact AS party_contact, p.phone AS party_phone,
       z.unit_id, z.street_id, z.compound_id, z.market_id, (z.props->>'area_m2')::float AS area_m2,
       z.props->>'note' AS note, z.created_by, z.valid_from, z.valid_to, ST_AsBinary(z.geom) AS wkb
FROM zones z LEFT JOIN parties p ON p.id = z.party_id
WHERE z.zone_id = :zone_id AND (CAST(:version AS int) IS NULL AND z.valid_to IS NULL OR z.version = :version)
ORDER BY z.version DESC
