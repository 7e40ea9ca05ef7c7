SELECT grid_code, party_id
FROM cases
WHERE id = :i
