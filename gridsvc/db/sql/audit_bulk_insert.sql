INSERT INTO audit_log (actor, role, source, action, table_name, record_id, after) VALUES (
  coalesce(nullif(current_setting('gridsvc.actor', true), ''), 'db:' || current_user),
  nullif(current_setting('gridsvc.role', true), ''),
  coalesce(nullif(current_setting('gridsvc.source', true), ''), 'db'), :a, :t, :r, CAST(:s AS jsonb))
