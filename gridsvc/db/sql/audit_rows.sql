SELECT id, at, actor, role, source, action, table_name, record_id, before, after FROM audit_log
WHERE (CAST(:t AS text) IS NULL OR table_name = :t) AND (CAST(:r AS text) IS NULL OR record_id = :r)
  AND (CAST(:a AS text) IS NULL OR actor = :a) AND (CAST(:s AS timestamptz) IS NULL OR at >= :s)
  AND (CAST(:u AS timestamptz) IS NULL OR at < :u)
ORDER BY at DESC, id DESC LIMIT :n
