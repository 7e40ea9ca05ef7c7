INSERT INTO pledges (unit_id, signed_on, signatory, scan, actor) VALUES (:unit, :signed_on, :signatory, :scan, :actor)
RETURNING id, created_at
