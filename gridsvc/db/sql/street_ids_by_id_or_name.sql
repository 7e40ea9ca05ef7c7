SELECT id FROM streets WHERE CAST(id AS text) = :s OR name = :s
