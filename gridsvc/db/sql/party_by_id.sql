SELECT id, kind, ref, name FROM parties WHERE id = :p
