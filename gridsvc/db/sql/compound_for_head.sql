-- A compound and its current 楼院长 appointment (if any), for naming a new one.
SELECT c.id, c.name, c.kind, c.property_manager, h.id AS head_id, h.party_id AS head_party_id,
       (SELECT count(*) FROM compound_heads a WHERE a.compound_id = c.id) AS appointments
FROM compounds c
LEFT JOIN compound_heads h ON h.compound_id = c.id AND h.until IS NULL
WHERE c.id = :c
