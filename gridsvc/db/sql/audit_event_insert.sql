INSERT INTO audit_log (actor, source, action, table_name, record_id, after)
VALUES (:actor, :source, :a, :t, :r, CAST(:after AS jsonb))
