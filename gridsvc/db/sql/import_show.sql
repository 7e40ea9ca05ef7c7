-- One import: its file, checksum, CRS, counts per layer and notes (text, and one object per geometry repaired or skipped).
SELECT id, imported_at, source_file, path, sha256, crs, counts, notes
FROM imports
WHERE id = :id
