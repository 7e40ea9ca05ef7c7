SELECT sha256, kind, content_type, size_bytes, filename, uploaded_by, created_at FROM uploads WHERE sha256 = :sha
