SELECT p.id, p.name
FROM zones z
JOIN parties p ON p.id = z.party_id
WHERE z.zone_id = :z AND z.version = :v
