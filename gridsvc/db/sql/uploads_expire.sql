-- Delete the uploads uploads_expired lists, returning them.
DELETE FROM uploads u USING unnest(CAST(:kinds AS text[]), CAST(:days AS int[])) AS k(kind, days)
WHERE u.kind = k.kind AND u.created_at < now() - make_interval(days => k.days)
RETURNING u.sha256, u.kind, u.size_bytes, u.filename, u.created_at
