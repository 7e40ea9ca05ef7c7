-- ref -> id of every party a zone build hands zones to (stewards come with their streets); a compound without a
-- property manager whose 楼院长 has been named goes to that person's party (compound_heads), not the synthetic one.
SELECT p.ref, coalesce(h.party_id, p.id)
FROM parties p
LEFT JOIN compound_heads h ON h.until IS NULL AND p.kind = 'building_head' AND p.ref = 'compound:' || h.compound_id
WHERE p.kind <> 'street_steward' ORDER BY p.id
