SELECT z.zone_id AS id, z.version, z.kind, z.origin, z.policy, z.valid_from, z.valid_to, z.created_by,
       p.kind AS party_kind, p.name AS party_name
FROM zones z LEFT JOIN parties p ON p.id = z.party_id
WHERE z.zone_key = :k OR z.zone_id = :i ORDER BY z.version
