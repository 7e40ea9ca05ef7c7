-- Every 楼院长 appointment of a compound, newest first.
SELECT id, compound_id, party_id, name, phone, since, until, assigned_by, assigned_at
FROM compound_heads WHERE compound_id = :c ORDER BY since DESC, id DESC
