SELECT id, signed_on, signatory, scan, actor, created_at FROM pledges WHERE unit_id = :unit
ORDER BY signed_on DESC, id DESC
