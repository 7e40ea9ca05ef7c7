-- Uploads older than their kind's days (:kinds[i] kept :days[i] days), as uploads_expire deletes them.
SELECT u.sha256, u.kind, u.size_bytes, u.filename, u.created_at
FROM uploads u, unnest(CAST(:kinds AS text[]), CAST(:days AS int[])) AS k(kind, days)
WHERE u.kind = k.kind AND u.created_at < now() - make_interval(days => k.days)
