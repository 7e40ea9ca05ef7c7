INSERT INTO compound_heads (compound_id, party_id, name, phone, since, assigned_by)
VALUES (:c, :p, :name, :phone, :since, :by)
RETURNING id
