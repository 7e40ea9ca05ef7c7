INSERT INTO imports (source_file, path, sha256, crs, counts, notes)
VALUES (:f, :p, :h, :c, CAST(:n AS jsonb), CAST(:o AS jsonb))
RETURNING id
