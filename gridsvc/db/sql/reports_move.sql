-- Case :b marked a duplicate of case :a: its reporters (those who filed it, those who followed it) follow :a now.
UPDATE reports SET case_id = :a, merged_at = :now, version = version + 1, updated_at = :now
WHERE case_id = :b
