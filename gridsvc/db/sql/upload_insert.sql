-- A new upload's row; nothing when that file was uploaded before (upload_by_sha then gives its row).
INSERT INTO uploads (sha256, kind, content_type, size_bytes, filename, uploaded_by)
VALUES (:sha, :kind, :ct, :size, :name, :by) ON CONFLICT (sha256) DO NOTHING
RETURNING sha256, kind, content_type, size_bytes, filename, uploaded_by, created_at
